#include "service/api/routes/users.hpp"

#include <functional>

#include "kit/errors/app_error.hpp"
#include "kit/http/error_response.hpp"
#include "kit/http/request_parts.hpp"
#include "kit/http/response.hpp"
#include "kit/json/writer.hpp"
#include "kit/net/client_key.hpp"
#include "service/api/count_first.hpp"
#include "service/api/password_budget.hpp"
#include "service/schemas/json_schema.hpp"
#include "service/schemas/users.hpp"

namespace user_service::api {

namespace http = kit::http;
using boost::asio::awaitable;

std::string user_not_found_message(std::string_view id) {
  constexpr std::size_t kMaxChars = 100;
  // Cut at a character boundary when the id is UTF-8; bytes otherwise (the writer replaces
  // invalid sequences anyway).
  std::size_t end = 0;
  std::size_t chars = 0;
  while (end < id.size() && chars < kMaxChars) {
    ++end;
    while (end < id.size() && (static_cast<unsigned char>(id[end]) & 0xC0U) == 0x80U) ++end;
    ++chars;
  }
  std::string message = "User with identifier '";
  message.append(id.substr(0, end));
  message += "' not found";
  return message;
}

namespace {

// The 404 of GET /users/{id}, returned rather than thrown: an expected answer costs no stack
// unwind through the coroutine frames (about 13k instructions), and it is the envelope
// ErrorMapping would have rendered for the thrown NotFound.
http::Response user_not_found(std::string_view id, const http::RequestContext& ctx,
                              unsigned version) {
  return http::error_response(kit::errors::NotFound(user_not_found_message(id)), ctx.request_id,
                              version);
}

// One function per route, its OpenAPI metadata beside it; register_user_routes() at the end
// lists them. A handler takes what it needs as typed parameters after the request and its
// context: the signed-in user (CurrentUser::protect), then the request parts its registration
// names (kit/http/request_parts.hpp: the body schema, path parameters, the query), each by
// value (docs/life-of-a-request.md "Adding a route").

const std::vector<std::string> kTags{"users"};

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// POST /api/v1/users/, under count_first(): the `auth` policy counts the client before the body
// is read, and the response or error shows that budget.
awaitable<http::Response> register_user(services::UserService& users, http::Request& req,
                                        http::RequestContext& ctx,
                                        kit::ratelimit::Decision& /*shown*/,
                                        schemas::UserCreate request) {
  const domain::User user =
      co_await users.register_user(std::move(request), domain::Role::user, ctx.deadline);
  ctx.log("users").info("user_registered", {{"user_id", user.id}});
  http::Response res = http::json_response(
      http::Status::created, schemas::UserResponse::from(user).to_json(), req.version());
  res.set(http::Field::location, "/api/v1/users/" + user.id);
  co_return res;
}

http::RouteInfo register_user_route() {
  return {.summary = "Register a new user",
          .tags = kTags,
          .openapi = {.operation_id = "register_user",
                      .request_body = {{"application/json", "UserCreate"}},
                      .responses = {{201,
                                     "The new user",
                                     "UserResponse",
                                     {{"Location", "/api/v1/users/{id} of the new user"}}}},
                      .errors = {{409, "Email already registered"},
                                 {429,
                                  "Too many requests: the default policy, or the auth policy per "
                                  "client; retry after Retry-After seconds"}}}};
}

// GET /api/v1/users/me
awaitable<http::Response> read_current_user(http::Request& req, http::RequestContext& /*ctx*/,
                                            const services::Caller& current) {
  co_return http::json_response(http::Status::ok, schemas::UserResponse::to_json(current.user),
                                req.version());
}

http::RouteInfo read_current_user_route() {
  return {.summary = "The current user",
          .tags = kTags,
          .openapi = {.operation_id = "read_current_user",
                      .responses = {{200, "The current user", "UserResponse"}},
                      .bearer = true}};
}

// PATCH /api/v1/users/me. A current_password that will be verified is a password guess: it
// counts against the same budgets as the token route (README "Rate limiting"), before argon2id
// runs. A new password ends every other session of the user (docs/sessions.md); the one that
// made the change stays signed in.
awaitable<http::Response> update_current_user(services::UserService& users,
                                              const PasswordBudget& budget, http::Request& req,
                                              http::RequestContext& ctx,
                                              const services::Caller& current,
                                              schemas::UserUpdate change) {
  const domain::User& current_user = current.user;
  std::optional<kit::ratelimit::Decision> shown;
  if (services::UserService::checks_password(current_user, change)) {
    const kit::ratelimit::Decision by_client =
        co_await budget.check_client(ctx.client_ip, ctx.span_parent());
    const kit::ratelimit::Decision by_account =
        co_await budget.check_account(current_user.email, ctx.span_parent());
    shown = kit::ratelimit::Guard::stricter(by_client, by_account);
  }
  try {
    const bool password_changed = change.password.has_value();
    const domain::User updated =
        co_await users.update_me(current_user, std::move(change), current.session_id, ctx.deadline);
    ctx.log("users").info("user_updated",
                          {{"user_id", updated.id}, {"password_changed", password_changed}});
    if (password_changed) {
      ctx.log("auth").info("session_revoked",
                           {{"user_id", updated.id},
                            {"reason", services::revoke_reason::password_changed},
                            {"scope", "others"}});
    }
    http::Response res = http::json_response(
        http::Status::ok, schemas::UserResponse::from(updated).to_json(), req.version());
    if (shown) budget.guard().apply_headers(res, *shown);
    co_return res;
  } catch (kit::errors::AppError& error) {
    if (shown) budget.guard().apply_headers(error, *shown);  // a 403 still shows the budget
    throw;
  }
}

http::RouteInfo update_current_user_route() {
  return {.summary = "Change the current user (email or password need current_password)",
          .tags = kTags,
          .openapi = {.operation_id = "update_current_user",
                      .request_body = {{"application/json", "UserUpdate"}},
                      .responses = {{200, "The changed user", "UserResponse"}},
                      .errors = {{403, "Wrong current_password"},
                                 {409, "Email already registered"},
                                 {429,
                                  "Too many requests: the default policy, or, when "
                                  "current_password is checked, the auth policy (per client and "
                                  "per account, shared with sign-in); retry after Retry-After "
                                  "seconds"}},
                      .bearer = true}};
}

// DELETE /api/v1/users/me
// Its sessions go with the user (the sessions table cascades the delete).
awaitable<http::Response> delete_current_user(services::UserService& users, http::Request& req,
                                              http::RequestContext& ctx,
                                              const services::Caller& current) {
  co_await users.delete_me(current.user, ctx.deadline);
  ctx.log("users").info("user_deleted", {{"user_id", current.user.id}});
  co_return http::empty_response(http::Status::no_content, req.version());
}

http::RouteInfo delete_current_user_route() {
  return {.summary = "Delete the current user",
          .tags = kTags,
          .openapi = {.operation_id = "delete_current_user",
                      .responses = {{204, "Deleted; the user's tokens now get 401"}},
                      .bearer = true}};
}

// GET /api/v1/users/{user_id}, under protect_token(): the caller and the requested user are
// loaded by ONE statement (see CurrentUser::protect_token and UserService::read_user).
awaitable<http::Response> read_user(services::UserService& users, http::Request& req,
                                    http::RequestContext& ctx, const domain::SessionKey& subject,
                                    std::string_view raw_id) {
  const services::UserRead read = co_await users.read_user(subject, raw_id, ctx.deadline);
  accept_caller(ctx, read.caller);  // a session ended (or a caller deleted) meanwhile: 401
  // Anyone but the user itself or an admin gets the same 404 as for an unknown id, so ids of
  // other users cannot be probed.
  const domain::User* shown = read.visible();
  if (shown == nullptr) co_return user_not_found(raw_id, ctx, req.version());
  co_return http::json_response(http::Status::ok, schemas::UserResponse::to_json(*shown),
                                req.version());
}

http::RouteInfo read_user_route() {
  return {.summary = "A user by id (the user itself or an admin)",
          .tags = kTags,
          .openapi = {.operation_id = "read_user",
                      .parameters = {{.name = "user_id",
                                      .in = "path",
                                      .required = true,
                                      .description = "The user's id (a UUID)",
                                      .schema = R"({"type":"string"})"}},
                      .responses = {{200, "The user", "UserResponse"}},
                      .errors = {{404, "Not the caller, not visible to it, or no such id"}},
                      .bearer = true}};
}

// GET /api/v1/users, under protect_admin(): the role is checked before the query is read.
awaitable<http::Response> list_users(services::UserService& users, http::Request& req,
                                     http::RequestContext& ctx, const services::Caller& /*admin*/,
                                     schemas::ListUsersQuery query) {
  const schemas::UserListResponse page = co_await users.list(query, ctx.deadline);
  co_return http::json_response(http::Status::ok, page.to_json(), req.version());
}

http::RouteInfo list_users_route() {
  return {.summary = "List users, newest first (admins only)",
          .tags = kTags,
          .openapi = {.operation_id = "list_users",
                      .parameters = schemas::query_parameters(schemas::ListUsersQuery::schema()),
                      .responses = {{200, "One page of users", "UserListResponse"}},
                      .errors = {{403, "The caller is not an admin"}},
                      .bearer = true}};
}

#pragma GCC diagnostic pop

}  // namespace

void register_user_routes(http::Router& router, services::UserService& users,
                          const CurrentUser& current, const kit::ratelimit::Guard& guard) {
  using http::JsonBody;
  using http::PathParam;
  using http::Query;
  using http::Verb;
  using http::with_parts;
  using std::bind_front;
  const auto svc = std::ref(users);
  const BudgetCheck per_client = [&guard](const http::RequestContext& ctx) {
    return guard.check("register-client:" + kit::net::client_key(ctx.client_ip), ctx.span_parent());
  };
  router.add(Verb::post, "/api/v1/users/",
             count_first(guard, per_client,
                         with_parts<JsonBody<schemas::UserCreate>>(bind_front(register_user, svc))),
             register_user_route());
  router.add(Verb::get, "/api/v1/users/me", current.protect(read_current_user),
             read_current_user_route());
  router.add(Verb::patch, "/api/v1/users/me",
             current.protect(with_parts<JsonBody<schemas::UserUpdate>>(
                 bind_front(update_current_user, svc, PasswordBudget(guard)))),
             update_current_user_route());
  router.add(Verb::delete_, "/api/v1/users/me",
             current.protect(bind_front(delete_current_user, svc)), delete_current_user_route());
  router.add(Verb::get, "/api/v1/users/{user_id}",
             current.protect_token(with_parts<PathParam<"user_id">>(bind_front(read_user, svc))),
             read_user_route());
  router.add(Verb::get, "/api/v1/users",
             current.protect_admin(
                 with_parts<Query<schemas::ListUsersQuery>>(bind_front(list_users, svc))),
             list_users_route());
}

}  // namespace user_service::api
