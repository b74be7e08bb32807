#include "service/api/dependencies.hpp"

#include <any>
#include <string>

#include "kit/errors/app_error.hpp"

namespace user_service::api {

namespace http = kit::http;

namespace {

struct TokenSubject {
  std::string user_id;
};

// While a protected handler runs, ctx.user holds a POINTER to what the dependency resolved,
// which lives in the protecting coroutine's frame until the handler is done. A pointer fits
// std::any's small buffer: storing the User itself there cost a heap allocation and a move per
// request. The slot is emptied on the way out so no pointer outlives what it points to.
class ContextSlot {
 public:
  template <class T>
  ContextSlot(http::RequestContext& ctx, const T& value) : ctx_(ctx) {
    ctx_.user = &value;
  }
  ~ContextSlot() { ctx_.user.reset(); }
  ContextSlot(const ContextSlot&) = delete;
  ContextSlot& operator=(const ContextSlot&) = delete;

 private:
  http::RequestContext& ctx_;
};

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

http::Handler CurrentUser::protect(http::Handler handler) const {
  return
      [this, handler = std::move(handler)](
          http::Request& req, http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
        const std::string_view token = token_of(req);
        std::string reason;
        const std::optional<domain::User> user =
            co_await auth_.authenticate(token, reason, ctx.deadline);
        if (!user) reject(ctx, reason);
        const ContextSlot slot(ctx, *user);
        co_return co_await handler(req, ctx);
      };
}

http::Handler CurrentUser::protect_token(http::Handler handler) const {
  return
      [this, handler = std::move(handler)](
          http::Request& req, http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
        const TokenSubject subject{verified_subject(req, ctx)};
        const ContextSlot slot(ctx, subject);
        co_return co_await handler(req, ctx);
      };
}

std::string CurrentUser::verified_subject(const http::Request& req,
                                          http::RequestContext& ctx) const {
  std::string reason;
  std::optional<std::string> subject = auth_.verify_token(token_of(req), reason);
  if (!subject) reject(ctx, reason);
  return std::move(*subject);
}

const domain::User& current_user(const http::RequestContext& ctx) {
  return *std::any_cast<const domain::User*>(ctx.user);
}

std::string_view token_subject(const http::RequestContext& ctx) {
  return std::any_cast<const TokenSubject*>(ctx.user)->user_id;
}

const domain::User& accept_caller(http::RequestContext& ctx,
                                  const std::optional<domain::User>& caller) {
  if (!caller) reject(ctx, services::AuthService::kUnknownSubject);
  ctx.user = &*caller;
  return *caller;
}

}  // namespace user_service::api
