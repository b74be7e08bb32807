// Cors (docs/configuration.md CORS_*, docs/http-api.md "CORS"): simple requests, preflights allowed
// and refused, Vary, credentials.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <stdexcept>

#include "kit/errors/app_error.hpp"
#include "kit/http/response.hpp"
#include "kit/middleware/cors.hpp"
#include "kit/middleware/error_mapping.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
using namespace kit::http;  // the types under test
using kit::middleware::Cors;
using kit::middleware::CorsOptions;

constexpr const char* kApp = "https://app.example.com";

Response run(const std::shared_ptr<Cors>& cors, Request req, bool throw_not_found = false) {
  kit::http::Pipeline pipeline;
  pipeline.use(cors).use(std::make_shared<kit::middleware::ErrorMapping>());
  int calls = 0;
  const kit::http::Handler terminal = [&calls, throw_not_found](
                                          Request&, RequestContext&) -> asio::awaitable<Response> {
    ++calls;
    if (throw_not_found) throw kit::errors::NotFound();
    co_return kit::http::json_response(kit::http::Status::ok, "{}");
  };
  RequestContext ctx;
  Response res = test_support::run_coroutine(pipeline.handle(req, ctx, terminal));
  const bool is_preflight =
      req.method() == Verb::options && req.find(Field::access_control_request_method) != req.end();
  if (is_preflight) {
    EXPECT_EQ(calls, 0) << "a preflight must not reach the router";
  }
  return res;
}

Request simple(const std::string& origin) {
  Request req{Verb::get, "/api/v1/users/me", 11};
  if (!origin.empty()) req.set(Field::origin, origin);
  return req;
}

Request preflight(const std::string& origin, const std::string& method = "PATCH") {
  Request req{Verb::options, "/api/v1/users/me", 11};
  req.set(Field::origin, origin);
  req.set(Field::access_control_request_method, method);
  req.set(Field::access_control_request_headers, "authorization, content-type");
  return req;
}

TEST(Cors, AllowedOriginGetsHeadersOnSimpleRequests) {
  const auto cors = std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}});
  const auto res = run(cors, simple(kApp));
  EXPECT_EQ(res[Field::access_control_allow_origin], kApp);
  EXPECT_EQ(res[Field::vary], "Origin");
  EXPECT_NE(res[Field::access_control_expose_headers].find("X-Request-ID"), std::string::npos);
  EXPECT_EQ(res.find(Field::access_control_allow_credentials), res.end());
}

TEST(Cors, RefusedOrAbsentOriginGetsOnlyVary) {
  const auto cors = std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}});
  for (const auto& origin : {std::string("https://evil.example"), std::string()}) {
    const auto res = run(cors, simple(origin));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.find(Field::access_control_allow_origin), res.end());
    EXPECT_EQ(res[Field::vary], "Origin");
  }
}

TEST(Cors, ErrorResponsesAreDecoratedToo) {
  const auto cors = std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}});
  const auto res = run(cors, simple(kApp), true);
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(res[Field::access_control_allow_origin], kApp);
}

TEST(Cors, WildcardWithoutCredentials) {
  const auto cors = std::make_shared<Cors>(CorsOptions{.allow_origins = {"*"}});
  EXPECT_EQ(run(cors, simple("https://anyone.example"))[Field::access_control_allow_origin], "*");
  EXPECT_THROW(Cors(CorsOptions{.allow_origins = {"*"}, .allow_credentials = true}),
               std::invalid_argument);
}

TEST(Cors, CredentialsEchoTheOrigin) {
  const auto cors =
      std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}, .allow_credentials = true});
  const auto res = run(cors, simple(kApp));
  EXPECT_EQ(res[Field::access_control_allow_origin], kApp);
  EXPECT_EQ(res[Field::access_control_allow_credentials], "true");
}

TEST(Cors, AllowedPreflightIs204WithMethodsHeadersAndMaxAge) {
  const auto cors =
      std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}, .allow_credentials = true});
  const auto res = run(cors, preflight(kApp));
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res[Field::access_control_allow_origin], kApp);
  EXPECT_EQ(res[Field::access_control_allow_credentials], "true");
  EXPECT_NE(res[Field::access_control_allow_methods].find("PATCH"), std::string::npos);
  EXPECT_NE(res[Field::access_control_allow_headers].find("Authorization"), std::string::npos);
  EXPECT_EQ(res[Field::access_control_max_age], "600");
  EXPECT_NE(res[Field::vary].find("Origin"), std::string::npos);
  EXPECT_TRUE(res.body().empty());
}

TEST(Cors, RefusedPreflightIsPlain204WithoutCorsHeaders) {
  const auto cors = std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}});
  for (const auto& req : {preflight("https://evil.example"), preflight(kApp, "TRACE")}) {
    const auto res = run(cors, req);
    EXPECT_EQ(res.result_int(), 204);
    EXPECT_EQ(res.find(Field::access_control_allow_origin), res.end());
    EXPECT_EQ(res.find(Field::access_control_allow_methods), res.end());
    EXPECT_EQ(res[Field::vary], "Origin");
  }
}

TEST(Cors, PlainOptionsIsNotAPreflight) {
  const auto cors = std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}});
  Request req{Verb::options, "/api/v1/users/me", 11};
  req.set(Field::origin, kApp);
  const auto res = run(cors, req);
  EXPECT_EQ(res.result_int(), 200);  // reached the handler (the router would answer 405)
}

TEST(Cors, OriginMatchIsExactUpToCase) {
  const auto cors = std::make_shared<Cors>(CorsOptions{.allow_origins = {kApp}});
  EXPECT_TRUE(cors->origin_allowed("https://APP.example.com"));
  EXPECT_FALSE(cors->origin_allowed("https://app.example.com.evil.example"));
  EXPECT_FALSE(cors->origin_allowed("http://app.example.com"));
  EXPECT_FALSE(cors->origin_allowed("null"));
}

}  // namespace
