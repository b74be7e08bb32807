#include "service/api/dependencies.hpp"

#include <any>
#include <string>

#include "kit/errors/app_error.hpp"

namespace user_service::api {

namespace http = kit::http;

std::optional<std::string_view> bearer_token(const http::Request& req) noexcept {
  const auto it = req.find(http::Field::authorization);
  if (it == req.end()) return std::nullopt;
  std::string_view value(it->value());
  constexpr std::string_view kScheme = "bearer";
  if (value.size() < kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  if (!value.empty() && value.front() != ' ') return std::nullopt;  // "Bearerx"
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

boost::asio::awaitable<void> CurrentUser::resolve(http::Request& req,
                                                  http::RequestContext& ctx) const {
  const auto token = bearer_token(req);
  if (!token) throw kit::errors::Unauthorized("Not authenticated", false);
  if (token->empty()) throw kit::errors::Unauthorized("Invalid or expired token", true);
  std::string reason;
  std::optional<domain::User> user;
  try {
    user = co_await auth_.authenticate(*token, reason);
  } catch (const kit::errors::AppError& e) {
    if (e.status() != 401) throw;
  }
  if (!user) {
    // The reason helps operators (expired vs forged); the token itself is never logged.
    ctx.log("auth").info("token_rejected", {{"reason", reason}});
    throw kit::errors::Unauthorized("Invalid or expired token", true);
  }
  ctx.user = std::move(*user);
}

http::Handler CurrentUser::protect(http::Handler handler) const {
  return
      [this, handler = std::move(handler)](
          http::Request& req, http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
        co_await resolve(req, ctx);
        co_return co_await handler(req, ctx);
      };
}

const domain::User& current_user(const http::RequestContext& ctx) {
  return std::any_cast<const domain::User&>(ctx.user);
}

}  // namespace user_service::api
