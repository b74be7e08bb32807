// End-to-end: the SERVER span of every request (docs/tracing.md) exported over OTLP/HTTP JSON to
// a receiver that decodes it with the official OTLP protobuf definitions (the npm package
// @opentelemetry/otlp-transformer; tests/support/otlp_receiver.mjs), sampling by the incoming
// traceparent, log lines with the span's ids, and a collector that refuses everything.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/json.hpp"
#include "support/users_client.hpp"
#include "tests/support/exposition_parser.hpp"
#include "tests/support/otlp_receiver.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;
using test_support::OtlpReceiver;

constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kParentId = "00f067aa0ba902b7";

std::string attribute(const rapidjson::Value& span, const char* key) {
  return OtlpReceiver::attribute(span, key);
}

class Tracing : public ::testing::Test {
 protected:
  Env env(Env extra = {}) const {
    Env e{{"OTEL_EXPORTER_OTLP_ENDPOINT", otlp_.endpoint()},
          {"OTEL_SERVICE_NAME", "users-e2e"},
          {"OTEL_RESOURCE_ATTRIBUTES", "service.namespace=accounts"},
          {"OTEL_BSP_SCHEDULE_DELAY", "100"},
          {"RATE_LIMIT_ENABLED", "false"}};
    for (auto& [k, v] : extra) e[k] = v;
    return test_env(e);
  }
  // The one span called `name` once it arrived (bounded wait); null with a failure otherwise.
  const rapidjson::Value* span_named(OtlpReceiver::Waited& got, const std::string& name) {
    got = otlp_.wait_for_spans(
        [&](const rapidjson::Value& spans) {
          return !OtlpReceiver::spans_named(spans, name).empty();
        },
        15s);
    EXPECT_TRUE(got.reached) << "no span " << name << ": " << got.text;
    if (!got.reached) return nullptr;
    EXPECT_TRUE(got.state["errors"].Empty()) << got.text;  // decoded by the official schema
    return OtlpReceiver::spans_named(got.state["spans"], name).front();
  }

  OtlpReceiver otlp_;
};

// Both encodings (OTEL_EXPORTER_OTLP_PROTOCOL): http/protobuf, the default, and http/json.
class TracingEncodings : public Tracing, public ::testing::WithParamInterface<const char*> {};

INSTANTIATE_TEST_SUITE_P(Protocols, TracingEncodings,
                         ::testing::Values("http/protobuf", "http/json"));

TEST_P(TracingEncodings, EveryRequestIsAServerSpanChildOfTheCallersTraceparent) {
  const std::string protocol = GetParam();
  ServiceProcess service(
      protocol == "http/protobuf" ? env() : env({{"OTEL_EXPORTER_OTLP_PROTOCOL", protocol}}));
  UsersClient client(service.port());
  const auto [id, token] = client.new_user(unique_email("trace"), unique_password(), "Tracer");
  const std::string traceparent = std::string("00-") + kTraceId + "-" + kParentId + "-01";
  const auto me = request(service.port(), Request{"GET",
                                                  "/api/v1/users/me?x=1",
                                                  {{"Authorization", "Bearer " + token},
                                                   {"traceparent", traceparent},
                                                   {"X-Request-ID", "trace-me-1"}},
                                                  ""});
  ASSERT_EQ(me.result_int(), 200) << me.body();

  OtlpReceiver::Waited got;
  const rapidjson::Value* span = span_named(got, "GET /api/v1/users/me");
  ASSERT_NE(span, nullptr);
  EXPECT_STREQ((*span)["traceId"].GetString(), kTraceId);
  EXPECT_STREQ((*span)["parentSpanId"].GetString(), kParentId);
  EXPECT_EQ((*span)["kind"].GetInt(), 2);  // SERVER
  EXPECT_STREQ((*span)["content_type"].GetString(),
               protocol == "http/json" ? "application/json" : "application/x-protobuf");
  EXPECT_EQ(attribute(*span, "http.request.method"), "GET");
  EXPECT_EQ(attribute(*span, "url.path"), "/api/v1/users/me");  // no query string
  EXPECT_EQ(attribute(*span, "http.route"), "/api/v1/users/me");
  EXPECT_EQ(attribute(*span, "http.response.status_code"), "200");
  EXPECT_EQ(attribute(*span, "client.address"), "127.0.0.1");
  EXPECT_EQ(attribute(*span, "error.type"), "<missing>");
  EXPECT_FALSE((*span)["status"].HasMember("code") && (*span)["status"]["code"].GetInt() != 0);
  EXPECT_STREQ((*span)["resource"]["service.name"].GetString(), "users-e2e");
  EXPECT_STREQ((*span)["resource"]["service.namespace"].GetString(), "accounts");
  const std::string start = (*span)["startTimeUnixNano"].GetString();
  const std::string end = (*span)["endTimeUnixNano"].GetString();
  EXPECT_LE(std::stoull(start), std::stoull(end));

  // The request's log lines carry the span's trace and span ids.
  const std::string span_id = (*span)["spanId"].GetString();
  const auto line = service.wait_for_line(
      [](const std::string& l) {
        return l.find("trace-me-1") != std::string::npos &&
               l.find("request_completed") != std::string::npos;
      },
      5s);
  ASSERT_TRUE(line);
  const auto log = parse_json(*line);
  EXPECT_EQ(str(log, "trace_id"), kTraceId);
  EXPECT_EQ(str(log, "span_id"), span_id);

  // A new trace without a caller: a root span; an unknown route: the method alone, a 4xx leaves
  // the status unset.
  ASSERT_EQ(get(service.port(), "/nowhere").result_int(), 404);
  const rapidjson::Value* missing = span_named(got, "GET");
  ASSERT_NE(missing, nullptr);
  EXPECT_STREQ((*missing)["parentSpanId"].GetString(), "");
  EXPECT_NE(std::string((*missing)["traceId"].GetString()), kTraceId);
  EXPECT_EQ(attribute(*missing, "http.response.status_code"), "404");
  EXPECT_EQ(attribute(*missing, "http.route"), "<missing>");
  EXPECT_FALSE((*missing)["status"].HasMember("code") &&
               (*missing)["status"]["code"].GetInt() != 0);
}

TEST_F(Tracing, ACallerThatDidNotSampleIsFollowedAndTheRatioDecidesNewTraces) {
  ServiceProcess service(
      env({{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "0"}}));
  // Not sampled by the caller: no span. A new trace at ratio 0: none. Sampled by the caller: a
  // span, although the ratio is 0.
  ASSERT_EQ(get(service.port(), "/health/live",
                {{"traceparent", std::string("00-") + kTraceId + "-" + kParentId + "-00"}})
                .result_int(),
            200);
  ASSERT_EQ(get(service.port(), "/health/live").result_int(), 200);
  ASSERT_EQ(get(service.port(), "/health/ready",
                {{"traceparent", std::string("00-") + kTraceId + "-" + kParentId + "-01"}})
                .result_int(),
            200);
  OtlpReceiver::Waited got;
  ASSERT_NE(span_named(got, "GET /health/ready"), nullptr);
  // Spans leave the queue in the order their requests ended: any span of the first two would
  // have arrived before this one.
  EXPECT_EQ(got.state["spans"].Size(), 1U) << got.text;
}

TEST_F(Tracing, ARefusingCollectorCostsRequestsNothingAndItsSpansAreCounted) {
  otlp_.set_mode(503);
  ServiceProcess service(env());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(get(service.port(), "/health/live").result_int(), 200) << i;
  }
  // Each batch is tried three times (0.5 s, then 1 s apart), then its spans are counted.
  double dropped = 0;
  for (int i = 0; i < 100 && dropped < 20; ++i) {
    std::this_thread::sleep_for(100ms);
    dropped = metrics_test::parse_exposition(get(service.port(), "/metrics").body())
                  .value("otel_spans_dropped_total", "otel_spans_dropped_total",
                         {{"reason", "export_failed"}})
                  .value_or(0);
  }
  EXPECT_GE(dropped, 20);
  const auto state =
      otlp_.wait_for([](const rapidjson::Value& s) { return s["refused"].GetInt() >= 3; }, 5s);
  EXPECT_TRUE(state.reached) << state.text;
}

}  // namespace
}  // namespace e2e
