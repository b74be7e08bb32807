#pragma once
// The current-user dependency (FastAPI's `Depends(get_current_user)`): ONE piece that every
// protected handler goes through. It reads `Authorization: Bearer <token>`, verifies the token
// (pinned algorithm, signature, exp, iss, aud) and checks that the user it names still exists
// (a deleted user's token is refused). Failures are 401 with `WWW-Authenticate: Bearer` (plus
// error="invalid_token" when a token was sent), a bad token logged as `token_rejected` with
// its reason (never the token).
#include <functional>
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

// A handler that runs for a signed-in user gets that user, and the session its token belongs
// to, as a parameter (the FastAPI guide's `read_user_me(current_user: CurrentUser)`). It lives
// until the handler's response is made.
using UserHandler = std::function<boost::asio::awaitable<kit::http::Response>(
    kit::http::Request&, kit::http::RequestContext&, const services::Caller& current)>;
// A handler that loads the caller itself gets the verified token's subject and session, not
// yet checked against the database.
using SubjectHandler = std::function<boost::asio::awaitable<kit::http::Response>(
    kit::http::Request&, kit::http::RequestContext&, const domain::SessionKey& subject)>;

class CurrentUser {
 public:
  explicit CurrentUser(services::AuthService& auth) : auth_(auth) {}

  // The route's handler: runs `handler` only for an authenticated user, whom it receives.
  kit::http::Handler protect(UserHandler handler) const;
  // Like protect(), for admins only: any other user gets 403 FORBIDDEN ("Admin role required")
  // before the handler, and so before any request part it declares, is read.
  kit::http::Handler protect_admin(UserHandler handler) const;

  // Like protect(), but the caller is NOT loaded here: the token is verified (no database) and
  // the handler gets its subject. The handler loads the caller in the same statement as
  // whatever else it reads and hands it to accept_caller(), which finishes the check exactly
  // as protect() would. Why: protect() plus the handler's own lookup is two
  // database round trips; GET /users/{id} measured 0.29x of pgbench's transactions/s that way
  // (not_found 0.26x, 84 and 104 us of service CPU per request) while the one-lookup
  // GET /users/me ran at 0.49x. With one round trip: 0.31-0.41x and 0.33-0.38x, 62-72 us per
  // request, on a par with /me in the same runs (bench; a shared, noisy machine).
  kit::http::Handler protect_token(SubjectHandler handler) const;

 private:
  // The verified subject; throws Unauthorized (a bad token is logged as token_rejected).
  domain::SessionKey verified_subject(const kit::http::Request& req,
                                      kit::http::RequestContext& ctx) const;

  services::AuthService& auth_;
};

// Under protect_token(): `caller` is the user loaded for the subject while its session is active
// (UserRepository::find_caller), nullopt otherwise. Returns it or throws the same 401 as
// protect() (logged as token_rejected, reason session_ended).
const domain::User& accept_caller(kit::http::RequestContext& ctx,
                                  const std::optional<domain::User>& caller);

}  // namespace user_service::api
