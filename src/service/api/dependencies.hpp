#pragma once
// The current-user dependency (FastAPI's `Depends(get_current_user)`): ONE piece that every
// protected handler goes through. It reads `Authorization: Bearer <token>`, verifies the token
// (pinned algorithm, signature, exp, iss, aud), loads the user it names (a deleted user's
// token is refused) and stores the user in ctx.user. Failures are 401 with
// `WWW-Authenticate: Bearer` (plus error="invalid_token" when a token was sent).
#include <optional>
#include <string_view>

#include "kit/http/request_context.hpp"
#include "kit/http/types.hpp"
#include "service/domain/user.hpp"
#include "service/services/auth_service.hpp"

namespace user_service::api {

// The token of an `Authorization: Bearer <token>` header; nullopt when there is no Bearer
// credential (no header, or another scheme). An empty token comes back as "".
std::optional<std::string_view> bearer_token(const kit::http::Request& req) noexcept;

class CurrentUser {
 public:
  explicit CurrentUser(services::AuthService& auth) : auth_(auth) {}

  // Resolves and stores the current user; throws Unauthorized.
  boost::asio::awaitable<void> resolve(kit::http::Request& req,
                                       kit::http::RequestContext& ctx) const;

  // Wraps a handler so that it runs only with an authenticated user in ctx.user.
  kit::http::Handler protect(kit::http::Handler handler) const;

 private:
  services::AuthService& auth_;
};

// The user stored by CurrentUser (precondition: the handler is protected).
const domain::User& current_user(const kit::http::RequestContext& ctx);

}  // namespace user_service::api
