// End-to-end: GET /metrics (docs/http-api.md, `GET /metrics`) on the real binary, on SQLite and
// PostgreSQL. The exposition is read with a strict 0.0.4 parser (tests/unit/metrics); counters
// must move by exactly the requests made, `route` is the template never the raw path, every
// metric docs/http-api.md lists is there, METRICS_ENABLED=false gives 404, and /metrics is neither
// rate limited nor logged at info level.
#include <gtest/gtest.h>

#include <string>

#include "support/users_client.hpp"
#include "tests/support/exposition_parser.hpp"

namespace e2e {
namespace {

using metrics_test::Exposition;
using metrics_test::Labels;

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
const std::string kUserRoute = "/api/v1/users/{user_id}";

Exposition scrape(unsigned short port) {
  const auto res = get(port, "/metrics");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res[boost::beast::http::field::content_type], kMetricsContentType);
  return metrics_test::parse_exposition(res.body());
}

double counter(const Exposition& e, const std::string& name, const Labels& labels) {
  return e.value(name, labels).value_or(0);  // a label set not yet seen counts as 0
}

double requests(const Exposition& e, const std::string& method, const std::string& route,
                const std::string& status) {
  return counter(e, "http_requests_total",
                 {{"method", method}, {"route", route}, {"status", status}});
}

double histogram_count(const Exposition& e, const std::string& name, const Labels& labels) {
  return e.value(name, name + "_count", labels).value_or(0);
}

class Metrics : public BackendTest {
  Env extra_env() override { return {{"APP_VERSION", "9.8.7-e2e"}}; }
};

TEST_P(Metrics, CountersMoveByExactlyTheRequestsMade) {
  const Exposition before = scrape(port());

  const auto [id, token] = c().new_user(unique_email("metrics"), unique_password());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(c().call("GET", "/api/v1/users/" + id, token).result_int(), 200);
  }
  ASSERT_EQ(c().call("GET", "/api/v1/users/me", token).result_int(), 200);
  ASSERT_EQ(c().call("GET", "/api/v1/users/me/", token).result_int(), 200);
  const std::string unknown_id = "00000000-0000-4000-8000-00000000beef";
  ASSERT_EQ(c().call("GET", "/api/v1/users/" + unknown_id, token).result_int(), 404);
  ASSERT_EQ(c().call("GET", "/no/such/path/4242").result_int(), 404);

  const auto res = c().call("GET", "/metrics");  // the client checks no secret is in the body
  ASSERT_EQ(res.result_int(), 200);
  const std::string text = res.body();
  const Exposition after = metrics_test::parse_exposition(text);

  const auto delta = [&](const std::string& method, const std::string& route,
                         const std::string& status) {
    return requests(after, method, route, status) - requests(before, method, route, status);
  };
  EXPECT_EQ(delta("POST", "/api/v1/users/", "201"), 1);
  EXPECT_EQ(delta("POST", "/api/v1/auth/token", "200"), 1);
  EXPECT_EQ(delta("GET", kUserRoute, "200"), 3);
  EXPECT_EQ(delta("GET", kUserRoute, "404"), 1);  // an error envelope, counted with its status
  EXPECT_EQ(delta("GET", "/api/v1/users/me", "200"), 2);
  EXPECT_EQ(delta("GET", "<unmatched>", "404"), 1);
  EXPECT_EQ(delta("GET", "/metrics", "200"), 1);  // the first scrape; this one is still running
  // The route label is the template: no concrete id or unknown path appears anywhere.
  EXPECT_EQ(text.find(id), std::string::npos);
  EXPECT_EQ(text.find(unknown_id), std::string::npos);
  EXPECT_EQ(text.find("/no/such/path"), std::string::npos);

  const Labels user_route{{"method", "GET"}, {"route", kUserRoute}};
  EXPECT_EQ(histogram_count(after, "http_request_duration_seconds", user_route) -
                histogram_count(before, "http_request_duration_seconds", user_route),
            4);
  EXPECT_EQ(after.value("http_requests_in_flight"), 1) << "only this scrape is in flight";
  EXPECT_EQ(histogram_count(after, "password_hash_seconds", {{"operation", "hash"}}) -
                histogram_count(before, "password_hash_seconds", {{"operation", "hash"}}),
            1);
  EXPECT_EQ(histogram_count(after, "password_hash_seconds", {{"operation", "verify"}}) -
                histogram_count(before, "password_hash_seconds", {{"operation", "verify"}}),
            1);
  EXPECT_GT(histogram_count(after, "db_pool_wait_seconds", {}),
            histogram_count(before, "db_pool_wait_seconds", {}));
  EXPECT_EQ(after.value("build_info", {{"version", "9.8.7-e2e"}}), 1);

  // Pool gauges as the backend really has them.
  const double max = *after.value("db_pool_connections_max");
  double open = 0;
  for (const char* state : {"idle", "in_use", "connecting"}) {
    const auto v = after.value("db_pool_connections", {{"state", state}});
    ASSERT_TRUE(v) << state;
    EXPECT_GE(*v, 0) << state;
    open += *v;
  }
  if (GetParam() == "postgres") {
    EXPECT_EQ(max, 15);  // DATABASE_POOL_SIZE 5 + DATABASE_POOL_MAX_OVERFLOW 10
    EXPECT_GE(open, 5);  // the persistent connections
  } else {
    EXPECT_EQ(max, 3);  // the writer and two readers
    EXPECT_EQ(open, 3);
  }
  EXPECT_LE(open, max);
  EXPECT_EQ(after.value("db_pool_waiting"), 0);
}

TEST_P(Metrics, EverySpecMetricIsThereWithItsType) {
  const Exposition e = scrape(port());
  const std::pair<const char*, const char*> expected[] = {
      {"http_requests_total", "counter"},       {"http_request_duration_seconds", "histogram"},
      {"http_requests_in_flight", "gauge"},     {"db_pool_connections", "gauge"},
      {"db_pool_wait_seconds", "histogram"},    {"rate_limit_rejections_total", "counter"},
      {"password_hash_seconds", "histogram"},   {"process_resident_memory_bytes", "gauge"},
      {"process_cpu_seconds_total", "counter"}, {"process_open_fds", "gauge"},
      {"process_start_time_seconds", "gauge"},  {"build_info", "gauge"},
      {"log_lines_dropped_total", "counter"},
  };
  for (const auto& [name, type] : expected) {
    ASSERT_TRUE(e.has(name)) << name;
    EXPECT_EQ(e.family(name).type, type) << name;
    EXPECT_FALSE(e.family(name).help.empty()) << name;
  }
  EXPECT_GT(*e.value("process_resident_memory_bytes"), 1024 * 1024);
  EXPECT_GT(*e.value("process_open_fds"), 3);        // listener, sockets, the database
  EXPECT_EQ(e.value("log_lines_dropped_total"), 0);  // stdout keeps up in tests
  // The rejection counters of both policies exist from the start, at 0.
  EXPECT_EQ(e.value("rate_limit_rejections_total", {{"policy", "default"}}), 0);
  EXPECT_EQ(e.value("rate_limit_rejections_total", {{"policy", "auth"}}), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, Metrics, ::testing::Values("sqlite", "postgres"), backend_name);

TEST(MetricsRoute, DisabledGives404) {
  ServiceProcess svc(test_env({{"METRICS_ENABLED", "false"}}));
  const auto res = get(svc.port(), "/metrics");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(Json(res.body())["error"], "NOT_FOUND");
  EXPECT_EQ(get(svc.port(), "/health/live").result_int(), 200);
}

TEST(MetricsRoute, NeverRateLimitedAndLoggedAtDebugOnly) {
  ServiceProcess svc(test_env({{"RATE_LIMIT_PER_MINUTE", "1"}}));
  for (int i = 0; i < 10; ++i) {
    const auto res = get(svc.port(), "/metrics");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.find("RateLimit"), res.end());
  }
  EXPECT_EQ(get(svc.port(), "/nope").result_int(), 404);
  EXPECT_EQ(get(svc.port(), "/nope").result_int(), 429);
  const Exposition e = scrape(svc.port());
  EXPECT_EQ(e.value("rate_limit_rejections_total", {{"policy", "default"}}), 1);
  EXPECT_EQ(requests(e, "GET", "<unmatched>", "429"), 1);
  EXPECT_EQ(requests(e, "GET", "/metrics", "200"), 10);

  // Once a later request is logged, every earlier line is there: none is about /metrics.
  const std::string marker = "metrics-log-barrier";
  get(svc.port(), "/nope", {{"X-Request-ID", marker}});
  ASSERT_TRUE(
      svc.wait_for_line([&](const std::string& l) { return l.find(marker) != std::string::npos; },
                        std::chrono::seconds(5)));
  for (const auto& line : svc.lines()) {
    EXPECT_EQ(line.find("\"path\":\"/metrics\""), std::string::npos) << line;
  }
}

// Redis unreachable (nothing listens on port 1): every decision fails open and is counted.
TEST(MetricsRoute, RedisFailuresAreCountedWhenFailingOpen) {
  ServiceProcess svc(test_env({{"REDIS_URL", "redis://127.0.0.1:1/0"}}));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(svc.port(), "/nope").result_int(), 404);
  const Exposition e = scrape(svc.port());
  EXPECT_EQ(e.value("rate_limit_backend_errors_total"), 3);
  EXPECT_EQ(e.value("rate_limit_fail_open_total"), 3);
  EXPECT_EQ(e.value("rate_limit_backend_calls_total"), 3);  // a failed call leaves no lease
  EXPECT_EQ(e.family("rate_limit_fail_open_total").type, "counter");
  EXPECT_EQ(e.value("rate_limit_rejections_total", {{"policy", "default"}}), 0);
}

}  // namespace
}  // namespace e2e
