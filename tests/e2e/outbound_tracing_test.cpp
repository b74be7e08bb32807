// End-to-end: the outbox's outbound calls as CLIENT spans (docs/tracing.md "Outbound calls"),
// exported over OTLP/HTTP JSON to a receiver that decodes them with the official OTLP protobuf
// definitions (tests/support/otlp_receiver.mjs), and the traceparent the real receivers get
// (tests/support/webhook_receiver.mjs, which verifies every call with npm `standardwebhooks`,
// and tests/support/http_receiver.py as an email service) naming exactly that span.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/json.hpp"
#include "support/users_client.hpp"
#include "tests/support/otlp_receiver.hpp"
#include "tests/support/script_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/webhook_receiver.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;
using test_support::OtlpReceiver;

std::string attribute(const rapidjson::Value& span, const char* key) {
  return OtlpReceiver::attribute(span, key);
}

std::string traceparent_of(const rapidjson::Value& span) {
  return std::string("00-") + span["traceId"].GetString() + "-" + span["spanId"].GetString() +
         "-01";
}

// The CLIENT spans named POST whose url.full is `url`.
std::vector<const rapidjson::Value*> client_posts(const rapidjson::Value& spans,
                                                  const std::string& url) {
  std::vector<const rapidjson::Value*> out;
  for (const auto* span : OtlpReceiver::spans_named(spans, "POST")) {
    if ((*span)["kind"].GetInt() == 3 && attribute(*span, "url.full") == url) out.push_back(span);
  }
  return out;
}

// What every CLIENT span of a POST to 127.0.0.1:`port` carries.
void expect_http_client_span(const rapidjson::Value& span, int port, const std::string& url) {
  EXPECT_EQ(span["kind"].GetInt(), 3);  // CLIENT
  EXPECT_STREQ(span["parentSpanId"].GetString(), "");
  EXPECT_EQ(attribute(span, "http.request.method"), "POST");
  EXPECT_EQ(attribute(span, "server.address"), "127.0.0.1");
  EXPECT_EQ(attribute(span, "server.port"), std::to_string(port));
  EXPECT_EQ(attribute(span, "url.full"), url);
  EXPECT_STREQ(span["resource"]["service.name"].GetString(), "users-e2e");
  EXPECT_LE(std::stoull(span["startTimeUnixNano"].GetString()),
            std::stoull(span["endTimeUnixNano"].GetString()));
}

class OutboundTracing : public ::testing::Test {
 protected:
  OutboundTracing() : webhooks_(test_support::random_webhook_secret()) {}

  Env env(Env extra = {}) const {
    Env e{{"OTEL_EXPORTER_OTLP_ENDPOINT", otlp_.endpoint()},
          {"OTEL_SERVICE_NAME", "users-e2e"},
          {"OTEL_BSP_SCHEDULE_DELAY", "100"},
          {"RATE_LIMIT_ENABLED", "false"}};
    for (auto& [k, v] : extra) e[k] = v;
    return test_env(e);
  }
  Env webhook_env(Env extra = {}) const {
    extra["WEBHOOK_URLS"] = webhooks_.url();
    extra["WEBHOOK_SECRET"] = webhooks_.secret();
    return env(extra);
  }

  // The one webhook call accepted (bounded wait): its id and traceparent.
  std::pair<std::string, std::string> accepted_webhook() {
    const auto got = webhooks_.wait_for_accepted(1, 30s);
    EXPECT_TRUE(got.reached) << got.state;
    const auto state = parse_json(got.state);
    if (!got.reached || state["accepted"].Empty()) return {};
    const auto& first = state["accepted"][0];
    return {str(first, "id"), first["traceparent"].IsString() ? str(first, "traceparent") : ""};
  }

  OtlpReceiver otlp_;
  test_support::WebhookReceiver webhooks_;
};

TEST_F(OutboundTracing, AWebhookCallIsAClientSpanThatTheReceiversTraceparentNames) {
  ServiceProcess service(webhook_env());
  UsersClient client(service.port());
  client.new_user(unique_email("outbound"), unique_password());
  const auto [event_id, traceparent] = accepted_webhook();
  ASSERT_FALSE(traceparent.empty());

  const std::string url = webhooks_.url();
  const auto got = otlp_.wait_for_spans(
      [&](const rapidjson::Value& spans) { return !client_posts(spans, url).empty(); }, 15s);
  ASSERT_TRUE(got.reached) << "no CLIENT span POST " << url << ": " << got.text;
  EXPECT_TRUE(got.state["errors"].Empty()) << got.text;  // decoded by the official schema
  const auto posts = client_posts(got.state["spans"], url);
  ASSERT_EQ(posts.size(), 1U) << got.text;
  const rapidjson::Value& span = *posts.front();
  expect_http_client_span(span, webhooks_.port(), url);
  EXPECT_EQ(attribute(span, "http.response.status_code"), "200");
  EXPECT_EQ(attribute(span, "messaging.message.id"), event_id);
  EXPECT_EQ(attribute(span, "error.type"), "<missing>");
  EXPECT_EQ(span["status"]["code"].GetInt(), 0);
  // What the receiver got names this span, sampled.
  EXPECT_EQ(traceparent, traceparent_of(span));
}

TEST_F(OutboundTracing, ARefusedAttemptIsAnErrorSpanAndTheRetryATraceOfItsOwn) {
  webhooks_.set_mode(R"({"mode":"fail_n","n":1,"status":503})");
  ServiceProcess service(webhook_env());
  UsersClient client(service.port());
  client.new_user(unique_email("outbound-retry"), unique_password());
  const auto [event_id, traceparent] = accepted_webhook();
  ASSERT_FALSE(traceparent.empty());

  const std::string url = webhooks_.url();
  const auto got = otlp_.wait_for_spans(
      [&](const rapidjson::Value& spans) { return client_posts(spans, url).size() >= 2; }, 15s);
  ASSERT_TRUE(got.reached) << got.text;
  EXPECT_TRUE(got.state["errors"].Empty()) << got.text;
  const auto posts = client_posts(got.state["spans"], url);
  ASSERT_EQ(posts.size(), 2U) << got.text;
  const rapidjson::Value& refused = *posts[0];
  const rapidjson::Value& accepted = *posts[1];
  expect_http_client_span(refused, webhooks_.port(), url);
  expect_http_client_span(accepted, webhooks_.port(), url);
  EXPECT_EQ(attribute(refused, "http.response.status_code"), "503");
  EXPECT_EQ(attribute(refused, "error.type"), "503");
  EXPECT_EQ(refused["status"]["code"].GetInt(), 2);  // error
  EXPECT_EQ(attribute(accepted, "http.response.status_code"), "200");
  EXPECT_EQ(accepted["status"]["code"].GetInt(), 0);
  // One event, two attempts: the same message id, two traces.
  EXPECT_EQ(attribute(refused, "messaging.message.id"), event_id);
  EXPECT_EQ(attribute(accepted, "messaging.message.id"), event_id);
  EXPECT_STRNE(refused["traceId"].GetString(), accepted["traceId"].GetString());
  EXPECT_EQ(traceparent, traceparent_of(accepted));
}

TEST_F(OutboundTracing, NotSampledTheReceiverStillGetsATraceparentAndNoSpanIsExported) {
  ServiceProcess service(webhook_env({{"OTEL_TRACES_SAMPLER", "always_off"}}));
  UsersClient client(service.port());
  client.new_user(unique_email("outbound-off"), unique_password());
  const auto [event_id, traceparent] = accepted_webhook();
  EXPECT_TRUE(std::regex_match(traceparent, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-00")))
      << traceparent;
  // Several export delays (100 ms) later, still nothing was exported.
  std::this_thread::sleep_for(600ms);
  const auto state = otlp_.state();
  EXPECT_EQ(state["spans"].Size(), 0U) << otlp_.state_text();
}

TEST_F(OutboundTracing, AnEmailServiceCallIsAClientSpanThatTheServicesTraceparentNames) {
  sqlite_test::TempDir files;
  const std::string log = files.file("requests.jsonl");
  test_support::ScriptServer mailer("http_receiver.py", {log});
  const std::string url = "http://127.0.0.1:" + std::to_string(mailer.port()) + "/send";
  ServiceProcess service(env({{"EMAIL_SERVICE_URL", url},
                              {"EMAIL_FROM", "no-reply@example.test"},
                              {"PUBLIC_BASE_URL", "http://app.example.test"}}));
  UsersClient client(service.port());
  const std::string email = unique_email("outbound-mail");
  client.new_user(email, unique_password());

  // The call's traceparent, once the email service recorded it (bounded poll).
  std::string traceparent;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       traceparent.empty() && std::chrono::steady_clock::now() < deadline;) {
    const std::string text = test_support::read_text_file(log);
    std::size_t at = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', at)) {
      rapidjson::Document line;
      line.Parse(text.data() + at, nl - at);
      at = nl + 1;
      if (line.HasParseError() || !line.IsObject() || !line["headers"].IsObject()) continue;
      if (str(line, "body").find(email) == std::string::npos) continue;
      traceparent = str(line["headers"], "traceparent");
    }
    if (traceparent.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(traceparent.empty()) << test_support::read_text_file(log);

  const auto got = otlp_.wait_for_spans(
      [&](const rapidjson::Value& spans) { return !client_posts(spans, url).empty(); }, 15s);
  ASSERT_TRUE(got.reached) << "no CLIENT span POST " << url << ": " << got.text;
  EXPECT_TRUE(got.state["errors"].Empty()) << got.text;
  const auto posts = client_posts(got.state["spans"], url);
  ASSERT_EQ(posts.size(), 1U) << got.text;
  const rapidjson::Value& span = *posts.front();
  expect_http_client_span(span, mailer.port(), url);
  EXPECT_EQ(attribute(span, "http.response.status_code"), "200");
  EXPECT_EQ(span["status"]["code"].GetInt(), 0);
  EXPECT_EQ(traceparent, traceparent_of(span));
  // Nothing of the email in the span: not the recipient, not the subject or the link.
  EXPECT_EQ(std::string(got.text).find(email), std::string::npos);
  EXPECT_EQ(std::string(got.text).find("token="), std::string::npos);
}

}  // namespace
}  // namespace e2e
