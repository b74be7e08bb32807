#include "service/api/routes/sessions.hpp"

#include <functional>
#include <string>

#include "kit/errors/app_error.hpp"
#include "kit/http/request_parts.hpp"
#include "kit/http/response.hpp"
#include "service/api/routes/users.hpp"
#include "service/schemas/auth.hpp"
#include "service/schemas/json_schema.hpp"

namespace user_service::api {

namespace http = kit::http;
using boost::asio::awaitable;

namespace {

const std::vector<std::string> kTags{"auth"};

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void log_revoked(http::RequestContext& ctx, std::string_view user_id, std::string_view reason,
                 std::int64_t count) {
  if (count > 0) {
    ctx.log("auth").info("session_revoked",
                         {{"user_id", user_id}, {"reason", reason}, {"count", count}});
  }
}

// GET /api/v1/auth/sessions
awaitable<http::Response> list_sessions(services::SessionService& sessions, http::Request& req,
                                        http::RequestContext& ctx,
                                        const services::Caller& current) {
  const std::vector<domain::Session> active = co_await sessions.list(current.user.id, ctx.deadline);
  co_return http::json_response(http::Status::ok,
                                schemas::SessionListResponse::to_json(active, current.session_id),
                                req.version());
}

http::RouteInfo list_sessions_route() {
  return {.summary = "The current user's active sessions, newest first",
          .tags = kTags,
          .openapi = {.operation_id = "list_sessions",
                      .responses = {{200, "Active sessions", "SessionListResponse"}},
                      .bearer = true}};
}

// DELETE /api/v1/auth/sessions/{session_id}: one of the caller's own sessions.
awaitable<http::Response> delete_session(services::SessionService& sessions, http::Request& req,
                                         http::RequestContext& ctx, const services::Caller& current,
                                         std::string_view session_id) {
  const bool revoked = co_await sessions.revoke(
      current.user.id, session_id, services::revoke_reason::user_request, ctx.deadline);
  if (!revoked) throw kit::errors::NotFound("Session not found");
  log_revoked(ctx, current.user.id, services::revoke_reason::user_request, 1);
  co_return http::empty_response(http::Status::no_content, req.version());
}

http::RouteInfo delete_session_route() {
  return {.summary = "End one of the current user's sessions",
          .tags = kTags,
          .openapi = {.operation_id = "delete_session",
                      .parameters = {{.name = "session_id",
                                      .in = "path",
                                      .required = true,
                                      .description = "The session's id (from the listing)",
                                      .schema = R"({"type":"string"})"}},
                      .responses = {{204, "Ended; its tokens now get 401"}},
                      .errors = {{404, "Not an active session of the current user"}},
                      .bearer = true}};
}

// POST /api/v1/auth/logout[?scope=all]
awaitable<http::Response> logout(services::SessionService& sessions, http::Request& req,
                                 http::RequestContext& ctx, const services::Caller& current,
                                 schemas::LogoutQuery query) {
  if (query.all) {
    const std::int64_t count = co_await sessions.revoke_all(
        current.user.id, services::revoke_reason::logout_all, std::nullopt, ctx.deadline);
    log_revoked(ctx, current.user.id, services::revoke_reason::logout_all, count);
  } else {
    const bool revoked = co_await sessions.revoke(current.user.id, current.session_id,
                                                  services::revoke_reason::logout, ctx.deadline);
    log_revoked(ctx, current.user.id, services::revoke_reason::logout, revoked ? 1 : 0);
  }
  co_return http::empty_response(http::Status::no_content, req.version());
}

http::RouteInfo logout_route() {
  return {.summary = "Sign out: end this session, or every session with scope=all",
          .tags = kTags,
          .openapi = {.operation_id = "logout",
                      .parameters = schemas::query_parameters(schemas::LogoutQuery::schema()),
                      .responses = {{204, "Signed out; the ended sessions' tokens now get 401"}},
                      .bearer = true}};
}

// DELETE /api/v1/users/{user_id}/sessions, under protect_admin().
awaitable<http::Response> revoke_user_sessions(services::SessionService& sessions,
                                               services::UserService& users, http::Request& req,
                                               http::RequestContext& ctx,
                                               const services::Caller& admin,
                                               std::string_view user_id) {
  if (!(co_await users.exists(user_id, ctx.deadline))) {
    throw kit::errors::NotFound(user_not_found_message(user_id));
  }
  const std::int64_t count = co_await sessions.revoke_all(user_id, services::revoke_reason::admin,
                                                          std::nullopt, ctx.deadline);
  ctx.log("auth").info("session_revoked", {{"user_id", user_id},
                                           {"reason", services::revoke_reason::admin},
                                           {"count", count},
                                           {"admin_id", admin.user.id}});
  co_return http::empty_response(http::Status::no_content, req.version());
}

http::RouteInfo revoke_user_sessions_route() {
  return {.summary = "End every session of a user (admins only)",
          .tags = {"users"},
          .openapi = {.operation_id = "revoke_user_sessions",
                      .parameters = {{.name = "user_id",
                                      .in = "path",
                                      .required = true,
                                      .description = "The user's id (a UUID)",
                                      .schema = R"({"type":"string"})"}},
                      .responses = {{204, "Ended; the user's tokens now get 401"}},
                      .errors = {{403, "The caller is not an admin"}, {404, "No such user"}},
                      .bearer = true}};
}

#pragma GCC diagnostic pop

}  // namespace

void register_session_routes(http::Router& router, services::SessionService& sessions,
                             services::UserService& users, const CurrentUser& current) {
  using http::PathParam;
  using http::Query;
  using http::Verb;
  using http::with_parts;
  using std::bind_front;
  const auto svc = std::ref(sessions);
  router.add(Verb::get, "/api/v1/auth/sessions", current.protect(bind_front(list_sessions, svc)),
             list_sessions_route());
  router.add(Verb::delete_, "/api/v1/auth/sessions/{session_id}",
             current.protect(with_parts<PathParam<"session_id">>(bind_front(delete_session, svc))),
             delete_session_route());
  router.add(Verb::post, "/api/v1/auth/logout",
             current.protect(with_parts<Query<schemas::LogoutQuery>>(bind_front(logout, svc))),
             logout_route());
  router.add(Verb::delete_, "/api/v1/users/{user_id}/sessions",
             current.protect_admin(with_parts<PathParam<"user_id">>(
                 bind_front(revoke_user_sessions, svc, std::ref(users)))),
             revoke_user_sessions_route());
}

}  // namespace user_service::api
