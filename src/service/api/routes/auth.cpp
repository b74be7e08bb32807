#include "service/api/routes/auth.hpp"

#include <rapidjson/document.h>

#include "kit/http/body.hpp"
#include "kit/http/response.hpp"
#include "service/api/password_budget.hpp"
#include "service/schemas/auth.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::api {

namespace http = kit::http;
using boost::asio::awaitable;

namespace {

schemas::TokenRequest read_token_request(const http::Request& req) {
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

awaitable<http::Response> issue_token(services::AuthService& auth,
                                      schemas::TokenRequest& credentials, http::Request& req,
                                      http::RequestContext& ctx) {
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

}  // namespace

void register_auth_routes(http::Router& router, services::AuthService& auth,
                          const kit::ratelimit::Guard& guard) {
  router.add(
      http::Verb::post, "/api/v1/auth/token",
      [&auth, budget = PasswordBudget(guard)](
          http::Request& req, http::RequestContext& ctx) -> awaitable<http::Response> {
        // The password budgets (README "Rate limiting"): per client and per account. Every
        // attempt counts, malformed ones included, so the client is counted before the body is
        // read.
        const kit::ratelimit::Decision by_client = co_await budget.check_client(ctx.client_ip);
        kit::ratelimit::Decision shown = by_client;
        try {
          schemas::TokenRequest credentials = read_token_request(req);
          const kit::ratelimit::Decision by_account =
              co_await budget.check_account(credentials.username);
          shown = kit::ratelimit::Guard::stricter(by_client, by_account);
          http::Response res = co_await issue_token(auth, credentials, req, ctx);
          budget.guard().apply_headers(res, shown);
          co_return res;
        } catch (const kit::errors::RateLimited&) {
          throw;  // the 429 carries the fields of the budget that ran out
        } catch (kit::errors::AppError& error) {
          budget.guard().apply_headers(error, shown);  // a 401 or 422 still shows the budget
          throw;
        }
      },
      {.summary = "Get an access token (OAuth2 password grant)",
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
                               "after Retry-After seconds"}}}});
}

}  // namespace user_service::api
