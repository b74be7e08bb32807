#include "service/api/dependencies.hpp"

#include <string>

#include "kit/errors/app_error.hpp"
#include "kit/util/text.hpp"

namespace user_service::api {

namespace http = kit::http;

namespace {

// No Bearer credential, or an empty one: 401 without a log line (nothing was verified).
std::string_view token_of(const http::Request& req) {
  const auto token = bearer_token(req);
  if (!token) throw kit::errors::Unauthorized("Not authenticated", false);
  if (token->empty()) throw kit::errors::Unauthorized("Invalid or expired token", true);
  return *token;
}

[[noreturn]] void reject(http::RequestContext& ctx, std::string_view reason) {
  // The reason helps operators (expired vs forged); the token itself is never logged.
  ctx.log("auth").info("token_rejected", {{"reason", reason}});
  throw kit::errors::Unauthorized("Invalid or expired token", true);
}

}  // namespace

std::optional<std::string_view> bearer_token(const http::Request& req) noexcept {
  const auto it = req.find(http::Field::authorization);
  if (it == req.end()) return std::nullopt;
  std::string_view value(it->value());
  constexpr std::string_view kScheme = "bearer";
  if (!kit::util::iequals_ascii(value.substr(0, kScheme.size()), kScheme)) return std::nullopt;
  value.remove_prefix(kScheme.size());
  if (!value.empty() && value.front() != ' ') return std::nullopt;  // "Bearerx"
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

http::Handler CurrentUser::protect(UserHandler handler) const {
  return
      [this, handler = std::move(handler)](
          http::Request& req, http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
        const std::string_view token = token_of(req);
        std::string reason;
        const std::optional<services::Caller> caller =
            co_await auth_.authenticate(token, reason, ctx.deadline);
        if (!caller) reject(ctx, reason);
        co_return co_await handler(req, ctx, *caller);
      };
}

http::Handler CurrentUser::protect_admin(UserHandler handler) const {
  return protect([handler = std::move(handler)](
                     http::Request& req, http::RequestContext& ctx,
                     const services::Caller& caller) -> boost::asio::awaitable<http::Response> {
    if (caller.user.role != domain::Role::admin) {
      throw kit::errors::Forbidden("Admin role required");
    }
    return handler(req, ctx, caller);
  });
}

http::Handler CurrentUser::protect_token(SubjectHandler handler) const {
  return
      [this, handler = std::move(handler)](
          http::Request& req, http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
        const domain::SessionKey subject = verified_subject(req, ctx);
        http::Response res = co_await handler(req, ctx, subject);
        // Reached only when the handler accepted the caller (accept_caller throws otherwise).
        auth_.sessions().record_use(subject.session_id);
        co_return res;
      };
}

domain::SessionKey CurrentUser::verified_subject(const http::Request& req,
                                                 http::RequestContext& ctx) const {
  std::string reason;
  std::optional<domain::SessionKey> subject = auth_.verify_token(token_of(req), reason);
  if (!subject) reject(ctx, reason);
  return std::move(*subject);
}

const domain::User& accept_caller(http::RequestContext& ctx,
                                  const std::optional<domain::User>& caller) {
  if (!caller) reject(ctx, services::AuthService::kSessionEnded);
  return *caller;
}

}  // namespace user_service::api
