#pragma once
// The current-user dependency (FastAPI's `Depends(get_current_user)`): ONE piece that every
// protected handler goes through. It reads `Authorization: Bearer <token>`, verifies the token
// (pinned algorithm, signature, exp, iss, aud) and checks that the user it names still exists
// (a deleted user's token is refused). Failures are 401 with `WWW-Authenticate: Bearer` (plus
// error="invalid_token" when a token was sent), a bad token logged as `token_rejected` with
// its reason (never the token).
#include <optional>
#include <string>
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

  // Wraps a handler so that it runs only for an authenticated user: current_user(ctx).
  kit::http::Handler protect(kit::http::Handler handler) const;

  // Like protect(), but the caller is NOT loaded here: the token is verified (no database) and
  // the handler gets its subject, token_subject(ctx). The handler loads the caller in the same
  // statement as whatever else it reads and hands it to accept_caller(), which finishes the
  // check exactly as protect() would. Why: protect() plus the handler's own lookup is two
  // database round trips; GET /users/{id} measured 0.29x of pgbench's transactions/s that way
  // (not_found 0.26x, 84 and 104 us of service CPU per request) while the one-lookup
  // GET /users/me ran at 0.49x. With one round trip: 0.31-0.41x and 0.33-0.38x, 62-72 us per
  // request, on a par with /me in the same runs (bench; a shared, noisy machine).
  kit::http::Handler protect_token(kit::http::Handler handler) const;

 private:
  // The verified subject; throws Unauthorized (a bad token is logged as token_rejected).
  std::string verified_subject(const kit::http::Request& req, kit::http::RequestContext& ctx) const;

  services::AuthService& auth_;
};

// The user resolved for a protected handler (precondition: protect(), or protect_token() after
// accept_caller()).
const domain::User& current_user(const kit::http::RequestContext& ctx);

// The verified token subject (the caller's user id) under protect_token().
std::string_view token_subject(const kit::http::RequestContext& ctx);

// Under protect_token(): `caller` is the user loaded for token_subject(ctx), nullopt when it no
// longer exists. Returns it (from now on also current_user(ctx)) or throws the same 401 as
// protect() (logged as token_rejected, reason unknown_subject). `caller` must outlive the
// handler's use of current_user(ctx).
const domain::User& accept_caller(kit::http::RequestContext& ctx,
                                  const std::optional<domain::User>& caller);

}  // namespace user_service::api
