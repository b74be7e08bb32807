#include "service/api/routes/auth.hpp"

#include <rapidjson/document.h>

#include <functional>

#include "kit/http/body.hpp"
#include "kit/http/request_parts.hpp"
#include "kit/http/response.hpp"
#include "service/api/count_first.hpp"
#include "service/api/password_budget.hpp"
#include "service/schemas/auth.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::api {

namespace http = kit::http;
using boost::asio::awaitable;

namespace {

// The token route's body: a form (what OAuth2 clients send) or the same fields as JSON.
struct TokenForm {
  using type = schemas::TokenRequest;
  static schemas::TokenRequest resolve(http::Request& req, http::RequestContext& ctx);
};

schemas::TokenRequest TokenForm::resolve(http::Request& req, http::RequestContext& /*ctx*/) {
  const auto it = req.find(http::Field::content_type);
  const std::string type =
      http::media_type(it == req.end() ? std::string_view{} : std::string_view(it->value()));
  if (type == "application/json") {
    rapidjson::Document body;
    http::read_json_body(req, body);
    return schemas::TokenRequest::from_json(body);
  }
  // OAuth2 (RFC 6749 §3.2): parameters must not repeat. Anything but JSON is read as a form,
  // which answers 415 for other media types.
  return schemas::TokenRequest::from_form(
      http::read_form_body(req, http::FormLimits{.max_fields = 16, .reject_duplicates = true}));
}

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

http::Response token_response(const services::IssuedSession& issued, unsigned version) {
  schemas::TokenResponse body{
      issued.access.token, static_cast<std::int64_t>(issued.access.expires_in.count()),
      issued.refresh_token, static_cast<std::int64_t>(issued.refresh_expires_in.count())};
  http::Response res = http::json_response(http::Status::ok, body.to_json(), version);
  res.set(http::Field::cache_control, "no-store");
  res.set(http::Field::pragma, "no-cache");
  return res;
}

// The password grant: the per-account budget, then the credentials; a new session.
awaitable<http::Response> password_grant(services::AuthService& auth, const PasswordBudget& budget,
                                         http::Request& req, http::RequestContext& ctx,
                                         kit::ratelimit::Decision& shown,
                                         schemas::TokenRequest credentials) {
  const kit::ratelimit::Decision by_account =
      co_await budget.check_account(credentials.username, ctx.span_parent());
  shown = kit::ratelimit::Guard::stricter(shown, by_account);
  services::SessionOrigin origin;
  if (const auto agent = req.find(http::Field::user_agent); agent != req.end()) {
    origin.user_agent = std::string(agent->value());
  }
  origin.client_ip = ctx.client_ip;
  bool ok = false;
  services::LoginResult result;
  try {
    result = co_await auth.login(std::move(credentials.username), std::move(credentials.password),
                                 std::move(origin), ctx.deadline);
    ok = true;
  } catch (const kit::errors::InvalidCredentials&) {
  }
  if (!ok) {
    ctx.log("auth").info("login_failed");
    throw kit::errors::InvalidCredentials();
  }
  if (result.rehash == services::Rehash::done) {
    ctx.log("auth").info("password_rehashed", {{"user_id", result.user_id}});
  } else if (result.rehash == services::Rehash::failed) {
    ctx.log("auth").warning("password_rehash_failed", {{"user_id", result.user_id}});
  }
  ctx.log("auth").info("login_succeeded", {{"user_id", result.user_id}});
  ctx.log("auth").info("session_created",
                       {{"user_id", result.user_id}, {"session_id", result.session.session_id}});
  co_return token_response(result.session, req.version());
}

// The refresh grant (docs/sessions.md "Refresh"): rotation, a grace for a lost answer, and a
// replayed spent token ends the session.
awaitable<http::Response> refresh_grant(services::AuthService& auth, const RefreshCounter& counter,
                                        http::Request& req, http::RequestContext& ctx,
                                        const schemas::TokenRequest& request) {
  services::RefreshOutcome outcome =
      co_await auth.sessions().refresh(request.refresh_token, ctx.deadline);
  if (counter) counter(outcome.result);
  switch (outcome.result) {
    case services::RefreshResult::rotated:
    case services::RefreshResult::grace_retry:
      ctx.log("auth").info("session_refreshed", {{"user_id", outcome.user_id},
                                                 {"session_id", outcome.session_id},
                                                 {"result", services::to_string(outcome.result)}});
      co_return token_response(*outcome.issued, req.version());
    case services::RefreshResult::reuse_detected:
      ctx.log("auth").warning("refresh_reuse_detected",
                              {{"user_id", outcome.user_id}, {"session_id", outcome.session_id}});
      ctx.log("auth").info("session_revoked", {{"user_id", outcome.user_id},
                                               {"session_id", outcome.session_id},
                                               {"reason", services::revoke_reason::refresh_reuse}});
      break;
    case services::RefreshResult::invalid:
      ctx.log("auth").info("refresh_rejected", {{"session_id", outcome.session_id}});
      break;
  }
  throw kit::errors::InvalidGrant();
}

// POST /api/v1/auth/token, under count_first(): the password budgets (README "Rate limiting")
// per client, counted before the body is read so malformed attempts and refresh grants count
// too, then, for the password grant, per account; the stricter of the two is shown.
awaitable<http::Response> create_token(services::AuthService& auth, const PasswordBudget& budget,
                                       const RefreshCounter& counter, http::Request& req,
                                       http::RequestContext& ctx, kit::ratelimit::Decision& shown,
                                       schemas::TokenRequest request) {
  if (request.grant == schemas::TokenRequest::Grant::refresh_token) {
    co_return co_await refresh_grant(auth, counter, req, ctx, request);
  }
  co_return co_await password_grant(auth, budget, req, ctx, shown, std::move(request));
}

#pragma GCC diagnostic pop

http::RouteInfo create_token_route() {
  return {.summary = "Sign in, or refresh (OAuth2 password and refresh_token grants)",
          .tags = {"auth"},
          .openapi = {.operation_id = "create_token",
                      .description = "The form is what OAuth2 clients (and Swagger UI's Authorize) "
                                     "send; the same fields as JSON are accepted too. A sign-in "
                                     "starts a session; a refresh spends its refresh_token and "
                                     "returns a new one (rotation). The response has "
                                     "`Cache-Control: no-store`.",
                      .request_body = {{"application/x-www-form-urlencoded", "TokenRequest"},
                                       {"application/json", "TokenRequest"}},
                      .responses = {{200, "An access token and a refresh token", "TokenResponse"}},
                      .errors = {{400,
                                  "The refresh token is unknown, spent, expired or revoked "
                                  "(INVALID_GRANT); a spent one also ends its session"},
                                 {401, "Wrong email or password (INVALID_CREDENTIALS)"},
                                 {429,
                                  "Too many requests: the default policy, or the auth policy per "
                                  "client and per username (shared with password changes); retry "
                                  "after Retry-After seconds"}}}};
}

}  // namespace

void register_auth_routes(http::Router& router, services::AuthService& auth,
                          const kit::ratelimit::Guard& guard, RefreshCounter counter) {
  const PasswordBudget budget(guard);
  const BudgetCheck per_client = [budget](const http::RequestContext& ctx) {
    return budget.check_client(ctx.client_ip, ctx.span_parent());
  };
  router.add(http::Verb::post, "/api/v1/auth/token",
             count_first(guard, per_client,
                         http::with_parts<TokenForm>(
                             std::bind_front(create_token, std::ref(auth), budget, counter))),
             create_token_route());
}

}  // namespace user_service::api
