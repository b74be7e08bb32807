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

// POST /api/v1/auth/token, under count_first(): the password budgets (README "Rate limiting")
// per client, counted before the body is read so malformed attempts count too, then per
// account; the stricter of the two is shown.
awaitable<http::Response> create_token(services::AuthService& auth, const PasswordBudget& budget,
                                       http::Request& req, http::RequestContext& ctx,
                                       kit::ratelimit::Decision& shown,
                                       schemas::TokenRequest credentials) {
  const kit::ratelimit::Decision by_account = co_await budget.check_account(credentials.username);
  shown = kit::ratelimit::Guard::stricter(shown, by_account);
  bool ok = false;
  services::LoginResult result;
  try {
    result = co_await auth.login(std::move(credentials.username), std::move(credentials.password),
                                 ctx.deadline);
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
  schemas::TokenResponse body{std::move(result.token.token),
                              static_cast<std::int64_t>(result.token.expires_in.count())};
  http::Response res = http::json_response(http::Status::ok, body.to_json(), req.version());
  res.set(http::Field::cache_control, "no-store");
  res.set(http::Field::pragma, "no-cache");
  co_return res;
}

#pragma GCC diagnostic pop

http::RouteInfo create_token_route() {
  return {.summary = "Get an access token (OAuth2 password grant)",
          .tags = {"auth"},
          .openapi = {.operation_id = "create_token",
                      .description = "The form is what OAuth2 clients (and Swagger UI's Authorize) "
                                     "send; the same fields as JSON are accepted too. The response "
                                     "has `Cache-Control: no-store`.",
                      .request_body = {{"application/x-www-form-urlencoded", "TokenRequest"},
                                       {"application/json", "TokenRequest"}},
                      .responses = {{200, "An access token", "TokenResponse"}},
                      .errors = {{401, "Wrong email or password (INVALID_CREDENTIALS)"},
                                 {429,
                                  "Too many requests: the default policy, or the auth policy per "
                                  "client and per username (shared with password changes); retry "
                                  "after Retry-After seconds"}}}};
}

}  // namespace

void register_auth_routes(http::Router& router, services::AuthService& auth,
                          const kit::ratelimit::Guard& guard) {
  const PasswordBudget budget(guard);
  const BudgetCheck per_client = [budget](const http::RequestContext& ctx) {
    return budget.check_client(ctx.client_ip);
  };
  router.add(http::Verb::post, "/api/v1/auth/token",
             count_first(guard, per_client,
                         http::with_parts<TokenForm>(
                             std::bind_front(create_token, std::ref(auth), budget))),
             create_token_route());
}

}  // namespace user_service::api
