// The metrics middleware in a real pipeline (Metrics → ErrorMapping → RateLimit → router): the
// route label is the template, unmatched requests share one label, error envelopes are counted
// with their final status, unknown methods cannot mint label values, in-flight returns to zero,
// and 429s count in rate_limit_rejections_total{policy}.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "kit/errors/app_error.hpp"
#include "kit/http/pipeline.hpp"
#include "kit/http/response.hpp"
#include "kit/http/router.hpp"
#include "kit/metrics/registry.hpp"
#include "kit/middleware/error_mapping.hpp"
#include "kit/middleware/metrics.hpp"
#include "kit/middleware/rate_limit.hpp"
#include "kit/ratelimit/guard.hpp"
#include "kit/ratelimit/memory_limiter.hpp"
#include "tests/support/exposition_parser.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
namespace http = kit::http;
using metrics_test::Labels;

struct App {
  explicit App(std::uint32_t limit = 1000) {
    router.add(http::Verb::get, "/api/v1/users/{user_id}",
               [](http::Request&, http::RequestContext& ctx) -> asio::awaitable<http::Response> {
                 if (ctx.params.get("user_id") == "missing") throw kit::errors::NotFound("no");
                 co_return http::json_response(http::Status::ok, "{}");
               });
    router.add(http::Verb::get, "/boom",
               [](http::Request&, http::RequestContext&) -> asio::awaitable<http::Response> {
                 throw std::logic_error("bug");
                 co_return http::json_response(http::Status::ok, "{}");
               });
    pipeline.use(std::make_shared<kit::middleware::Metrics>(registry))
        .use(std::make_shared<kit::middleware::ErrorMapping>())
        .use(std::make_shared<kit::middleware::RateLimit>(
            std::make_shared<kit::ratelimit::MemoryLimiter>(),
            kit::ratelimit::Policy{.name = "default", .limit = limit}, &registry));
    terminal = [this](http::Request& req, http::RequestContext& ctx) {
      return router.dispatch(req, ctx);
    };
  }
  unsigned send(http::Verb verb, const std::string& target) {
    http::Request req{verb, target, 11};
    return send(req);
  }
  unsigned send(http::Request& req) {
    http::RequestContext ctx;
    ctx.client_ip = "192.0.2.1";
    router.find(req.method(), http::target_path(req.target()), ctx);  // as the server does
    return test_support::run_coroutine(pipeline.handle(req, ctx, terminal)).result_int();
  }
  metrics_test::Exposition scrape() const {
    return metrics_test::parse_exposition(registry.render());
  }

  kit::metrics::Registry registry;
  http::Router router;
  http::Pipeline pipeline;
  http::Handler terminal;
};

double requests(const metrics_test::Exposition& e, const Labels& labels) {
  return e.value("http_requests_total", labels).value_or(0);
}

TEST(MetricsMiddleware, CountsByRouteTemplateAndFinalStatus) {
  App app;
  EXPECT_EQ(app.send(http::Verb::get, "/api/v1/users/123"), 200);
  EXPECT_EQ(app.send(http::Verb::get, "/api/v1/users/456/"), 200);
  EXPECT_EQ(app.send(http::Verb::get, "/api/v1/users/missing"), 404);
  EXPECT_EQ(app.send(http::Verb::get, "/nowhere/at/all"), 404);
  EXPECT_EQ(app.send(http::Verb::delete_, "/api/v1/users/123"), 405);
  EXPECT_EQ(app.send(http::Verb::get, "/boom"), 500);
  const auto e = app.scrape();
  const std::string route = "/api/v1/users/{user_id}";
  EXPECT_EQ(requests(e, {{"method", "GET"}, {"route", route}, {"status", "200"}}), 2);
  EXPECT_EQ(requests(e, {{"method", "GET"}, {"route", route}, {"status", "404"}}), 1);
  EXPECT_EQ(requests(e, {{"method", "GET"}, {"route", "<unmatched>"}, {"status", "404"}}), 1);
  EXPECT_EQ(requests(e, {{"method", "DELETE"}, {"route", route}, {"status", "405"}}), 1);
  EXPECT_EQ(requests(e, {{"method", "GET"}, {"route", "/boom"}, {"status", "500"}}), 1);
  // No raw path anywhere.
  EXPECT_EQ(app.registry.render().find("/api/v1/users/123"), std::string::npos);
  EXPECT_EQ(e.value("http_request_duration_seconds", "http_request_duration_seconds_count",
                    {{"method", "GET"}, {"route", route}}),
            3);
  EXPECT_EQ(e.value("http_requests_in_flight"), 0);
}

// The middleware remembers the cells of recent label sets per thread: two instances
// in one thread, and an instance made where a destroyed one was, each count only their own.
TEST(MetricsMiddleware, EachInstanceCountsItsOwnRequests) {
  const std::string route = "/api/v1/users/{user_id}";
  const Labels ok{{"method", "GET"}, {"route", route}, {"status", "200"}};
  for (int round = 0; round < 3; ++round) {
    auto first = std::make_unique<App>();
    auto second = std::make_unique<App>();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(first->send(http::Verb::get, "/api/v1/users/1"), 200);
    EXPECT_EQ(second->send(http::Verb::get, "/api/v1/users/2"), 200);
    EXPECT_EQ(second->send(http::Verb::get, "/api/v1/users/missing"), 404);
    EXPECT_EQ(requests(first->scrape(), ok), 3) << round;
    EXPECT_EQ(requests(second->scrape(), ok), 1) << round;
    EXPECT_EQ(requests(second->scrape(), {{"method", "GET"}, {"route", route}, {"status", "404"}}),
              1)
        << round;
  }
}

TEST(MetricsMiddleware, UnknownMethodsShareOneLabel) {
  App app;
  http::Request req{http::Verb::unknown, "/x", 11};
  req.method_string("BREW");
  EXPECT_EQ(app.send(req), 404);
  req.method_string("FROBNICATE");
  EXPECT_EQ(app.send(req), 404);
  const auto e = app.scrape();
  EXPECT_EQ(requests(e, {{"method", "OTHER"}, {"route", "<unmatched>"}, {"status", "404"}}), 2);
  EXPECT_EQ(app.registry.render().find("BREW"), std::string::npos);
}

TEST(MetricsMiddleware, RateLimitRejectionsAreCountedPerPolicy) {
  App app(2);
  for (int i = 0; i < 5; ++i) app.send(http::Verb::get, "/api/v1/users/1");
  const auto e = app.scrape();
  EXPECT_EQ(e.value("rate_limit_rejections_total", {{"policy", "default"}}), 3);
  EXPECT_EQ(
      requests(e, {{"method", "GET"}, {"route", "/api/v1/users/{user_id}"}, {"status", "429"}}), 3);

  // A guard shares the family under its own policy name.
  kit::ratelimit::Guard guard(std::make_shared<kit::ratelimit::MemoryLimiter>(),
                              kit::ratelimit::Policy{.name = "auth", .limit = 1}, &app.registry);
  asio::io_context io;
  auto first = asio::co_spawn(io, guard.check("k"), asio::use_future);
  auto second = asio::co_spawn(io, guard.check("k"), asio::use_future);
  io.run();
  EXPECT_TRUE(first.get().allowed);
  EXPECT_THROW(second.get(), kit::errors::RateLimited);
  EXPECT_EQ(app.scrape().value("rate_limit_rejections_total", {{"policy", "auth"}}), 1);
}

TEST(MetricsMiddleware, StatusLabels) {
  EXPECT_EQ(kit::middleware::status_label(200), "200");
  EXPECT_EQ(kit::middleware::status_label(100), "100");
  EXPECT_EQ(kit::middleware::status_label(999), "999");
  EXPECT_EQ(kit::middleware::status_label(503), "503");
  EXPECT_EQ(kit::middleware::status_label(99), "other");
  EXPECT_EQ(kit::middleware::status_label(1000), "other");
}

}  // namespace
