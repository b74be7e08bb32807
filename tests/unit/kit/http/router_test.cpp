// kit::http::Router: templates, typed and percent-decoded parameters, trailing slashes, 404/405
// with Allow, HEAD via GET, and the target helpers (docs/http-api.md "Conventions").
#include "kit/http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <stdexcept>
#include <string>

#include "kit/errors/app_error.hpp"
#include "kit/http/response.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
using namespace kit::http;  // the types under test

// A handler whose body names it, so a dispatch shows which route ran.
Handler named(std::string name) {
  return [name](Request&, RequestContext&) -> asio::awaitable<Response> {
    co_return kit::http::json_response(Status::ok, "\"" + name + "\"");
  };
}

std::string matched(const Router& router, Verb method, std::string_view path,
                    RequestContext* out = nullptr) {
  RequestContext local;
  RequestContext& ctx = out ? *out : local;
  return router.match(method, path, ctx).path;
}

std::string allow_of(const Router& router, Verb method, std::string_view path) {
  RequestContext ctx;
  try {
    router.match(method, path, ctx);
  } catch (const kit::errors::MethodNotAllowed& e) {
    for (const auto& [name, value] : e.headers()) {
      if (name == "Allow") return value;
    }
    ADD_FAILURE() << "405 without Allow";
    return {};
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected MethodNotAllowed, got " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected MethodNotAllowed for " << path;
  return {};
}

Response dispatch(const Router& router, Verb method, std::string target) {
  Request req{method, target, 11};
  RequestContext ctx;
  return test_support::run_coroutine(router.dispatch(req, ctx));
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add(Verb::get, "/", named("root"));
    RouteInfo quiet;
    quiet.quiet = true;
    router.add(Verb::get, "/health/live", named("live"), quiet);
    router.add(Verb::post, "/api/v1/users/", named("create"));
    router.add(Verb::get, "/api/v1/users", named("list"));
    // The templated route is registered before the literal one on purpose.
    router.add(Verb::get, "/api/v1/users/{user_id}", named("get_user"));
    router.add(Verb::get, "/api/v1/users/me", named("me"));
    router.add(Verb::patch, "/api/v1/users/me", named("patch_me"));
    router.add(Verb::delete_, "/api/v1/users/me", named("delete_me"));
    router.add(Verb::get, "/items/{id:int}", named("item"));
    router.add(Verb::get, "/things/{id:uuid}", named("thing"));
    router.add(Verb::get, "/files/{name}/versions/{version:int}", named("file_version"));
  }
  Router router;
};

TEST_F(RouterTest, LiteralPaths) {
  EXPECT_EQ(matched(router, Verb::get, "/health/live"), "/health/live");
  EXPECT_EQ(matched(router, Verb::get, "/api/v1/users"), "/api/v1/users");
  EXPECT_EQ(matched(router, Verb::post, "/api/v1/users/"), "/api/v1/users/");
}

TEST_F(RouterTest, Root) {
  EXPECT_EQ(matched(router, Verb::get, "/"), "/");
  EXPECT_EQ(matched(router, Verb::get, ""), "/");
}

TEST_F(RouterTest, TrailingSlashBothWays) {
  EXPECT_EQ(matched(router, Verb::get, "/health/live/"), "/health/live");
  EXPECT_EQ(matched(router, Verb::post, "/api/v1/users"), "/api/v1/users/");
  EXPECT_EQ(matched(router, Verb::get, "/api/v1/users/"), "/api/v1/users");
  EXPECT_EQ(matched(router, Verb::get, "/api/v1/users/me/"), "/api/v1/users/me");
  RequestContext ctx;
  EXPECT_EQ(matched(router, Verb::get, "/items/12/", &ctx), "/items/{id:int}");
  EXPECT_EQ(ctx.params.get("id"), "12");
}

TEST_F(RouterTest, TemplatedPathFillsContext) {
  RequestContext ctx;
  EXPECT_EQ(matched(router, Verb::get, "/api/v1/users/abc", &ctx), "/api/v1/users/{user_id}");
  EXPECT_EQ(ctx.params.get("user_id"), "abc");
  EXPECT_EQ(ctx.route, "/api/v1/users/{user_id}");
  ASSERT_NE(ctx.route_info, nullptr);
  EXPECT_FALSE(ctx.route_info->quiet);
  EXPECT_EQ(ctx.params.get("absent"), "");

  RequestContext two;
  EXPECT_EQ(matched(router, Verb::get, "/files/report.pdf/versions/3", &two),
            "/files/{name}/versions/{version:int}");
  EXPECT_EQ(two.params.get("name"), "report.pdf");
  EXPECT_EQ(two.params.get("version"), "3");

  RequestContext quiet;
  matched(router, Verb::get, "/health/live", &quiet);
  ASSERT_NE(quiet.route_info, nullptr);
  EXPECT_TRUE(quiet.route_info->quiet);
}

TEST_F(RouterTest, LiteralWinsOverParamRegardlessOfOrder) {
  RequestContext ctx;
  EXPECT_EQ(matched(router, Verb::get, "/api/v1/users/me", &ctx), "/api/v1/users/me");
  EXPECT_EQ(ctx.params.get("user_id"), "");

  Router literal_first;
  literal_first.add(Verb::get, "/users/me", named("me"));
  literal_first.add(Verb::get, "/users/{id}", named("id"));
  Router param_first;
  param_first.add(Verb::get, "/users/{id}", named("id"));
  param_first.add(Verb::get, "/users/me", named("me"));
  for (const Router* r : {&literal_first, &param_first}) {
    EXPECT_EQ(matched(*r, Verb::get, "/users/me"), "/users/me");
    EXPECT_EQ(matched(*r, Verb::get, "/users/you"), "/users/{id}");
  }
}

// Literal routes are looked up directly: a literal path registered only for other
// methods still reaches a parameter route of this method, and a literal match leaves no
// parameters of an earlier match in a reused context.
TEST_F(RouterTest, LiteralLookupKeepsMethodsAndContextStraight) {
  Router r;
  r.add(Verb::get, "/users/me", named("me"));
  r.add(Verb::put, "/users/{id}", named("put_id"));
  RequestContext ctx;
  EXPECT_EQ(matched(r, Verb::put, "/users/me", &ctx), "/users/{id}");
  EXPECT_EQ(ctx.params.get("id"), "me");
  EXPECT_EQ(matched(r, Verb::get, "/users/me/", &ctx), "/users/me");
  EXPECT_EQ(ctx.params.get("id"), "");
  EXPECT_EQ(matched(r, Verb::head, "/users/me", &ctx), "/users/me");
  EXPECT_EQ(allow_of(r, Verb::post, "/users/me"), "GET, HEAD, PUT");
  RequestContext other;
  EXPECT_THROW(router.match(Verb::get, "//health/live", other), kit::errors::NotFound);
}

TEST_F(RouterTest, IntParam) {
  RequestContext ctx;
  EXPECT_EQ(matched(router, Verb::get, "/items/0", &ctx), "/items/{id:int}");
  EXPECT_EQ(ctx.params.get("id"), "0");
  EXPECT_EQ(matched(router, Verb::get, "/items/%31%32", &ctx), "/items/{id:int}");
  EXPECT_EQ(ctx.params.get("id"), "12");
  for (std::string_view bad : {"/items/abc", "/items/-1", "/items/1.5", "/items/12a", "/items/+1",
                               "/items/%zz", "/items/1234567890123456789"}) {
    RequestContext c;
    EXPECT_THROW(router.match(Verb::get, bad, c), kit::errors::NotFound) << bad;
  }
}

TEST_F(RouterTest, UuidParam) {
  const std::string id = "0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e";
  RequestContext ctx;
  EXPECT_EQ(matched(router, Verb::get, "/things/" + id, &ctx), "/things/{id:uuid}");
  EXPECT_EQ(ctx.params.get("id"), id);
  for (std::string_view bad : {"/things/nope", "/things/0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6",
                               "/things/0190d3e45f6a7b8c9d0e1f2a3b4c5d6e",
                               "/things/0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6g"}) {
    RequestContext c;
    EXPECT_THROW(router.match(Verb::get, bad, c), kit::errors::NotFound) << bad;
  }
}

TEST_F(RouterTest, ParamsArePercentDecoded) {
  RequestContext ctx;
  EXPECT_EQ(matched(router, Verb::get, "/api/v1/users/a%20b%2Fc%27", &ctx),
            "/api/v1/users/{user_id}");
  EXPECT_EQ(ctx.params.get("user_id"), "a b/c'");
  EXPECT_EQ(matched(router, Verb::get, "/files/%E2%82%AC/versions/1", &ctx),
            "/files/{name}/versions/{version:int}");
  EXPECT_EQ(ctx.params.get("name"), "\xE2\x82\xAC");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  RequestContext ctx;
  for (std::string_view path : {"/nope", "/api/v1", "/api/v1/users/me/extra", "/health",
                                "/health/live/x", "/items", "/api//users"}) {
    EXPECT_THROW(router.match(Verb::get, path, ctx), kit::errors::NotFound) << path;
  }
}

TEST_F(RouterTest, WrongMethodIsMethodNotAllowedWithAllow) {
  EXPECT_EQ(allow_of(router, Verb::delete_, "/health/live"), "GET, HEAD");
  EXPECT_EQ(allow_of(router, Verb::put, "/api/v1/users/me"), "DELETE, GET, HEAD, PATCH");
  EXPECT_EQ(allow_of(router, Verb::delete_, "/api/v1/users"), "GET, HEAD, POST");
  EXPECT_EQ(allow_of(router, Verb::post, "/items/7"), "GET, HEAD");
}

TEST(RouterMethods, PostOnlyRouteHasNoHeadInAllow) {
  Router r;
  r.add(Verb::post, "/token", named("token"));
  EXPECT_EQ(allow_of(r, Verb::get, "/token"), "POST");
  EXPECT_EQ(allow_of(r, Verb::head, "/token"), "POST");
}

TEST_F(RouterTest, HeadDispatchesToGet) {
  EXPECT_EQ(matched(router, Verb::head, "/health/live"), "/health/live");
  EXPECT_EQ(matched(router, Verb::head, "/api/v1/users/me"), "/api/v1/users/me");
  EXPECT_EQ(dispatch(router, Verb::head, "/api/v1/users/me").body(), "\"me\"");
}

TEST_F(RouterTest, DispatchRunsTheMatchedHandlerAndIgnoresTheQuery) {
  EXPECT_EQ(dispatch(router, Verb::get, "/api/v1/users/me?x=1&y=/other").body(), "\"me\"");
  EXPECT_EQ(dispatch(router, Verb::get, "/api/v1/users/42?limit=5").body(), "\"get_user\"");
  EXPECT_EQ(dispatch(router, Verb::patch, "/api/v1/users/me/").body(), "\"patch_me\"");
  EXPECT_EQ(dispatch(router, Verb::get, "/?q").body(), "\"root\"");
  // No route: the envelope is returned, not thrown.
  const Response missing = dispatch(router, Verb::get, "/missing?x=1");
  EXPECT_EQ(missing.result(), Status::not_found);
  EXPECT_NE(missing.body().find(R"("error":"NOT_FOUND")"), std::string::npos) << missing.body();
  const Response wrong_method = dispatch(router, Verb::post, "/health/live");
  EXPECT_EQ(wrong_method.result(), Status::method_not_allowed);
  EXPECT_EQ(wrong_method[kit::http::Field::allow], "GET, HEAD");
  EXPECT_NE(wrong_method.body().find(R"("error":"METHOD_NOT_ALLOWED")"), std::string::npos);
}

TEST(RouterAdd, DuplicatesThrow) {
  Router r;
  r.add(Verb::get, "/users/{id}", named("a"));
  EXPECT_THROW(r.add(Verb::get, "/users/{id}", named("b")), std::invalid_argument);
  EXPECT_THROW(r.add(Verb::get, "/users/{other}", named("b")), std::invalid_argument);
  EXPECT_THROW(r.add(Verb::get, "/users/{id}/", named("b")), std::invalid_argument);
  r.add(Verb::get, "/x", named("x"));
  EXPECT_THROW(r.add(Verb::get, "/x/", named("x2")), std::invalid_argument);
  // Same path with another method, or a literal next to a parameter, is fine.
  EXPECT_NO_THROW(r.add(Verb::post, "/users/{id}", named("c")));
  EXPECT_NO_THROW(r.add(Verb::get, "/users/me", named("d")));
  EXPECT_EQ(r.routes().size(), 4u);
}

TEST(RouterAdd, MalformedTemplatesThrow) {
  for (const char* bad : {"", "users", "users/{id}", "/users/{", "/users/}", "/users/{}",
                          "/users/x{id}", "/users/{id}x", "/users/{id:float}", "/users/{:int}",
                          "/users/{a{b}", "/users/{a}b}", "/users/{a b}", "/users/{a/b}"}) {
    Router r;
    EXPECT_THROW(r.add(Verb::get, bad, named("x")), std::invalid_argument) << bad;
  }
  Router ok;
  EXPECT_NO_THROW(ok.add(Verb::get, "/a/{id:str}", named("s")));
  EXPECT_NO_THROW(ok.add(Verb::get, "/b/{id:int}", named("i")));
  EXPECT_NO_THROW(ok.add(Verb::get, "/c/{id:uuid}", named("u")));
}

TEST(RouterTarget, PathAndQuery) {
  using kit::http::target_path;
  using kit::http::target_query;
  EXPECT_EQ(target_path("/a/b?x=1"), "/a/b");
  EXPECT_EQ(target_path("/a/b"), "/a/b");
  EXPECT_EQ(target_path("/a?"), "/a");
  EXPECT_EQ(target_path("/a?b?c"), "/a");
  EXPECT_EQ(target_path(""), "");
  EXPECT_EQ(target_query("/a/b?x=1&y=2"), "x=1&y=2");
  EXPECT_EQ(target_query("/a?b?c"), "b?c");
  EXPECT_EQ(target_query("/a?"), "");
  EXPECT_EQ(target_query("/a"), "");
}

// The server matches once, before the middleware chain; dispatch then runs what ctx holds
// and does not look again (the match below is replaced to show that).
TEST_F(RouterTest, DispatchUsesTheMatchTheContextHolds) {
  Request req{Verb::get, "/api/v1/users/me", 11};
  RequestContext ctx;
  ASSERT_NE(router.find(req.method(), target_path(req.target()), ctx), nullptr);
  EXPECT_TRUE(ctx.routed);
  EXPECT_EQ(ctx.route, "/api/v1/users/me");
  EXPECT_EQ(test_support::run_coroutine(router.dispatch(req, ctx)).body(), "\"me\"");

  RequestContext other;
  router.find(Verb::get, "/health/live", other);
  EXPECT_EQ(test_support::run_coroutine(router.dispatch(req, other)).body(), "\"live\"");

  RequestContext unknown;
  EXPECT_EQ(router.find(Verb::get, "/nowhere", unknown), nullptr);
  EXPECT_TRUE(unknown.routed);
  // "No route" stands too: an error envelope, not the handler of the request's path.
  EXPECT_GE(test_support::run_coroutine(router.dispatch(req, unknown)).result_int(), 400);
}

}  // namespace
