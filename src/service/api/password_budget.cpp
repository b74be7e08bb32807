#include "service/api/password_budget.hpp"

#include "kit/net/client_key.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::api {

boost::asio::awaitable<kit::ratelimit::Decision> PasswordBudget::check_client(
    std::string_view client_ip, const kit::trace::Parent* parent) const {
  co_return co_await guard_->check("password-client:" + kit::net::client_key(client_ip), parent);
}

boost::asio::awaitable<kit::ratelimit::Decision> PasswordBudget::check_account(
    std::string_view email, const kit::trace::Parent* parent) const {
  co_return co_await guard_->check("password-account:" + schemas::normalize_email(email), parent);
}

}  // namespace user_service::api
