// End-to-end: one JSON log line per request with the fields of docs/operations.md "Logs",
// correlated by request id and trace id.
#include <gtest/gtest.h>

#include <regex>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/service_process.hpp"

namespace e2e {
namespace {

std::optional<std::string> completed_line(const ServiceProcess& svc,
                                          const std::string& request_id) {
  return svc.wait_for_line(
      [&](const std::string& l) {
        return l.find("\"request_completed\"") != std::string::npos &&
               l.find("\"request_id\":\"" + request_id + "\"") != std::string::npos;
      },
      std::chrono::seconds(5));
}

TEST(Logging, OneCompletedLinePerRequestWithAllFields) {
  ServiceProcess svc(test_env());
  const auto res =
      get(svc.port(), "/nope?x=1",
          {{"X-Request-ID", "log-1"},
           {"User-Agent", "e2e-agent/1.0"},
           {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  ASSERT_EQ(res.result_int(), 404);
  const auto line = completed_line(svc, "log-1");
  ASSERT_TRUE(line) << "no request_completed line";
  // Field order: timestamp, level, logger, event first.
  EXPECT_TRUE(std::regex_search(
      *line,
      std::regex(
          R"(^\{"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"info","logger":"[a-z_.]+","event":"request_completed",)")))
      << *line;
  auto doc = parse_json(*line);
  EXPECT_EQ(str(doc, "method"), "GET");
  EXPECT_EQ(str(doc, "path"), "/nope");
  EXPECT_EQ(str(doc, "route"), "");
  EXPECT_EQ(doc["status_code"].GetInt(), 404);
  EXPECT_TRUE(doc["duration_ms"].IsNumber());
  EXPECT_EQ(str(doc, "client_ip"), "127.0.0.1");
  EXPECT_EQ(str(doc, "user_agent"), "e2e-agent/1.0");
  EXPECT_EQ(str(doc, "request_id"), "log-1");
  EXPECT_EQ(str(doc, "trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
  std::size_t count = 0;
  for (const auto& l : svc.lines()) {
    if (l.find("\"request_id\":\"log-1\"") != std::string::npos &&
        l.find("request_completed") != std::string::npos) {
      ++count;
    }
  }
  EXPECT_EQ(count, 1u);
}

TEST(Logging, NewTraceIdWhenTraceparentIsAbsentOrInvalid) {
  ServiceProcess svc(test_env());
  get(svc.port(), "/nope", {{"X-Request-ID", "t-1"}, {"traceparent", "garbage"}});
  const auto line = completed_line(svc, "t-1");
  ASSERT_TRUE(line);
  auto doc = parse_json(*line);
  EXPECT_TRUE(std::regex_match(str(doc, "trace_id"), std::regex("[0-9a-f]{32}")));
}

TEST(Logging, HealthRoutesLogAtDebugOnly) {
  ServiceProcess svc(test_env());
  get(svc.port(), "/health/live", {{"X-Request-ID", "quiet-1"}});
  get(svc.port(), "/nope", {{"X-Request-ID", "loud-1"}});
  ASSERT_TRUE(completed_line(svc, "loud-1"));
  for (const auto& l : svc.lines()) {
    EXPECT_EQ(l.find("quiet-1"), std::string::npos) << "health logged at info: " << l;
  }
  ServiceProcess debug(test_env({{"LOG_LEVEL", "debug"}}));
  get(debug.port(), "/health/live", {{"X-Request-ID", "quiet-2"}});
  const auto line = completed_line(debug, "quiet-2");
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("\"level\":\"debug\""), std::string::npos);
}

TEST(Logging, HostileInputStaysValidJsonOnOneLine) {
  ServiceProcess svc(test_env());
  Connection c(svc.port());
  // Quotes and backslashes (legal in header values) and bytes that are not UTF-8.
  c.send(std::string("GET /evil%22path%00 HTTP/1.1\r\nHost: x\r\nX-Request-ID: hostile-1\r\n") +
         "User-Agent: a\"b\\c\xff\xfe end\r\n\r\n");
  EXPECT_EQ(c.read_response().result_int(), 404);
  const auto line = completed_line(svc, "hostile-1");
  ASSERT_TRUE(line);
  auto doc = parse_json(*line);  // validates UTF-8 too
  EXPECT_EQ(str(doc, "path"), "/evil%22path%00");
  EXPECT_EQ(str(doc, "user_agent"), "a\"b\\c\xef\xbf\xbd\xef\xbf\xbd end");
}

TEST(Logging, StartedAndStoppedAreLogged) {
  ServiceProcess svc(test_env());
  const auto lines = svc.lines();
  bool started = false;
  for (const auto& l : lines) {
    if (l.find("service_started") == std::string::npos) continue;
    auto doc = parse_json(l);
    EXPECT_EQ(str(doc, "address"), "127.0.0.1");
    EXPECT_EQ(str(doc, "version"), USER_SERVICE_VERSION);
    started = true;
  }
  EXPECT_TRUE(started);
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait_exit(std::chrono::seconds(10)), 0);
  EXPECT_TRUE(svc.wait_for_line(
      [](const std::string& l) { return l.find("\"service_stopped\"") != std::string::npos; },
      std::chrono::seconds(1)));
}

}  // namespace
}  // namespace e2e
