#include "service/api/routes/account.hpp"

#include <functional>

#include <boost/asio/this_coro.hpp>

#include "kit/http/request_parts.hpp"
#include "kit/http/response.hpp"
#include "kit/log/log.hpp"
#include "kit/net/client_key.hpp"
#include "service/api/count_first.hpp"
#include "service/schemas/account.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::api {

namespace http = kit::http;
using boost::asio::awaitable;

namespace {

const std::vector<std::string> kTags{"auth"};

// The one body of a reset request: the same whether or not the address is registered.
constexpr std::string_view kResetAccepted =
    "If an account uses this address, an email with a link to reset its password is on its way";
constexpr std::string_view kResendAccepted =
    "If the address is not verified yet, an email with a new link is on its way";

http::Response accepted(std::string_view message, unsigned version) {
  return http::json_response(http::Status::accepted, schemas::AcceptedResponse::to_json(message),
                             version);
}

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// POST /api/v1/auth/verify-email
awaitable<http::Response> verify_email(services::AccountService& accounts, http::Request& req,
                                       http::RequestContext& ctx,
                                       schemas::VerifyEmailRequest request) {
  const domain::User user = co_await accounts.verify_email(std::move(request.token), ctx.deadline);
  ctx.log("users").info("email_verified", {{"user_id", user.id}});
  co_return http::json_response(http::Status::ok, schemas::UserResponse::to_json(user),
                                req.version());
}

http::RouteInfo verify_email_route() {
  return {.summary = "Verify the email address with the token of a verification email",
          .tags = kTags,
          .openapi = {.operation_id = "verify_email",
                      .description = "The token comes from the link sent at registration, at an "
                                     "email change, or by /auth/verify-email/resend; it works "
                                     "once, for 24 hours, and only while the address it was sent "
                                     "to is still the user's.",
                      .request_body = {{"application/json", "VerifyEmailRequest"}},
                      .responses = {{200, "The user, its email verified", "UserResponse"}},
                      .errors = {{400,
                                  "The token is unknown, spent, expired or for an address the "
                                  "user no longer has (INVALID_TOKEN)"}}}};
}

// POST /api/v1/auth/verify-email/resend: the auth policy per user bounds the emails one
// account can cause.
awaitable<http::Response> resend_verification(services::AccountService& accounts,
                                              const kit::ratelimit::Guard& guard,
                                              http::Request& req, http::RequestContext& ctx,
                                              const services::Caller& current) {
  const kit::ratelimit::Decision decision =
      co_await guard.check("verify-resend-user:" + current.user.id, ctx.span_parent());
  const bool sent = co_await accounts.resend_verification(current.user, ctx.deadline);
  ctx.log("users").info("verification_resend", {{"user_id", current.user.id}, {"sent", sent}});
  http::Response res = accepted(kResendAccepted, req.version());
  guard.apply_headers(res, decision);
  co_return res;
}

http::RouteInfo resend_verification_route() {
  return {
      .summary = "Send the verification email again",
      .tags = kTags,
      .openapi = {.operation_id = "resend_verification",
                  .responses = {{202, "Accepted; an email follows unless the address is verified",
                                 "AcceptedResponse"}},
                  .errors = {{429,
                              "Too many requests: the auth policy per user; retry after "
                              "Retry-After seconds"}},
                  .bearer = true}};
}

// POST /api/v1/auth/password-reset/request, under count_first() (per client). The lookup and
// the write happen after the answer, so the answer's time does not depend on them.
awaitable<http::Response> request_password_reset(services::AccountService& accounts,
                                                 const kit::ratelimit::Guard& guard,
                                                 kit::async::Background& background,
                                                 http::Request& req, http::RequestContext& ctx,
                                                 kit::ratelimit::Decision& shown,
                                                 schemas::PasswordResetRequest request) {
  const std::string email = schemas::normalize_email(request.email);
  shown = kit::ratelimit::Guard::stricter(
      shown, co_await guard.check("reset-account:" + email, ctx.span_parent()));
  auto work = [](services::AccountService& svc, std::string address,
                 std::string request_id) -> awaitable<void> {
    try {
      const bool sent = co_await svc.request_password_reset(std::move(address));
      kit::log::info("users", "password_reset_requested",
                     {{"request_id", request_id}, {"token_issued", sent}});
    } catch (const std::exception& e) {
      kit::log::error("users", "password_reset_request_failed",
                      {{"request_id", request_id}, {"error", e.what()}});
    }
  };
  if (!background.spawn(co_await boost::asio::this_coro::executor,
                        work(accounts, email, std::string(ctx.request_id)))) {
    ctx.log("users").warning("password_reset_request_dropped",
                             {{"reason", "too many reset requests in progress"}});
  }
  co_return accepted(kResetAccepted, req.version());
}

http::RouteInfo request_password_reset_route() {
  return {.summary = "Ask for a password reset email",
          .tags = kTags,
          .openapi = {.operation_id = "request_password_reset",
                      .description = "Always 202 with the same body, whether or not an account "
                                     "uses the address; when one does, an email with a link "
                                     "(valid 30 minutes, once) is sent to it.",
                      .request_body = {{"application/json", "PasswordResetRequest"}},
                      .responses = {{202, "Accepted", "AcceptedResponse"}},
                      .errors = {{429,
                                  "Too many requests: the auth policy per client and per "
                                  "address; retry after Retry-After seconds"}}}};
}

// POST /api/v1/auth/password-reset, under count_first() (per client).
awaitable<http::Response> reset_password(services::AccountService& accounts, http::Request& req,
                                         http::RequestContext& ctx,
                                         kit::ratelimit::Decision& /*shown*/,
                                         schemas::PasswordReset request) {
  const domain::User user = co_await accounts.reset_password(
      std::move(request.token), std::move(request.new_password), ctx.deadline);
  ctx.log("users").info("password_reset", {{"user_id", user.id}});
  ctx.log("auth").info("session_revoked", {{"user_id", user.id},
                                           {"reason", services::revoke_reason::password_reset},
                                           {"scope", "all"}});
  co_return http::empty_response(http::Status::no_content, req.version());
}

http::RouteInfo reset_password_route() {
  return {.summary = "Set a new password with the token of a reset email",
          .tags = kTags,
          .openapi = {.operation_id = "reset_password",
                      .description = "Every session of the user is revoked: its access tokens "
                                     "get 401 and its refresh tokens 400 from now on. The link "
                                     "also proves the address, so the email is verified too.",
                      .request_body = {{"application/json", "PasswordReset"}},
                      .responses = {{204, "The password is changed"}},
                      .errors = {{400, "The token is unknown, spent or expired (INVALID_TOKEN)"},
                                 {429,
                                  "Too many requests: the auth policy per client; retry after "
                                  "Retry-After seconds"}}}};
}

#pragma GCC diagnostic pop

}  // namespace

void register_account_routes(http::Router& router, services::AccountService& accounts,
                             const CurrentUser& current, const kit::ratelimit::Guard& guard,
                             kit::async::Background& background) {
  using http::JsonBody;
  using http::with_parts;
  using std::bind_front;
  const auto svc = std::ref(accounts);
  router.add(http::Verb::post, "/api/v1/auth/verify-email",
             with_parts<JsonBody<schemas::VerifyEmailRequest>>(bind_front(verify_email, svc)),
             verify_email_route());
  router.add(http::Verb::post, "/api/v1/auth/verify-email/resend",
             current.protect(bind_front(resend_verification, svc, std::cref(guard))),
             resend_verification_route());
  const BudgetCheck reset_client = [&guard](const http::RequestContext& ctx) {
    return guard.check("reset-client:" + kit::net::client_key(ctx.client_ip), ctx.span_parent());
  };
  router.add(http::Verb::post, "/api/v1/auth/password-reset/request",
             count_first(guard, reset_client,
                         with_parts<JsonBody<schemas::PasswordResetRequest>>(bind_front(
                             request_password_reset, svc, std::cref(guard), std::ref(background)))),
             request_password_reset_route());
  const BudgetCheck set_client = [&guard](const http::RequestContext& ctx) {
    return guard.check("password-reset-client:" + kit::net::client_key(ctx.client_ip),
                       ctx.span_parent());
  };
  router.add(
      http::Verb::post, "/api/v1/auth/password-reset",
      count_first(guard, set_client,
                  with_parts<JsonBody<schemas::PasswordReset>>(bind_front(reset_password, svc))),
      reset_password_route());
}

}  // namespace user_service::api
