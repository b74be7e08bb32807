// The email destinations of the outbox (docs/events.md "Delivery") against real servers: an HTTP
// email service (tests/support/http_receiver.py) and an SMTP server (tests/support/
// smtp_receiver.py, aiosmtpd), with the event id as the repeat's mark on both, and the CLIENT
// span of every call (docs/tracing.md "Outbound calls").
#include "kit/outbox/email_destinations.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kit/async/worker_pool.hpp"
#include "kit/trace/tracer.hpp"
#include "tests/support/run_coroutine.hpp"
#include "tests/support/script_server.hpp"
#include "tests/support/span_sink.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using kit::outbox::Claimed;
using kit::outbox::Delivery;
using kit::outbox::Email;

const Email kEmail{.to = "zoe@example.org",
                   .subject = "Reset your password, Zoë",
                   .text = "Open https://users.example.com/reset?token=abc to reset.\n",
                   .html =
                       "<p>Open <a href=\"https://users.example.com/reset?token=abc\">this "
                       "link</a>.</p>\n"};

Claimed row(std::string payload) {
  Claimed r;
  r.seq = 7;
  r.id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  r.destination = "email";
  r.ordering_key = "user";
  r.type = "email";
  r.payload = std::move(payload);
  r.attempts = 1;
  return r;
}

// An attribute's value as text ("<missing>" when absent).
std::string attribute(const kit::trace::SpanData& span, const std::string& key) {
  for (const auto& a : span.attributes) {
    if (a.key != key) continue;
    if (const auto* s = std::get_if<std::string>(&a.value)) return *s;
    if (const auto* i = std::get_if<std::int64_t>(&a.value)) return std::to_string(*i);
    return "<other>";
  }
  return "<missing>";
}

class EmailDestinations : public testing::Test {
 protected:
  Delivery deliver(kit::outbox::Destination& d, const Claimed& r) {
    return test_support::run_coroutine(d.deliver(r));
  }
  std::string port_url(int port, const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  sqlite_test::TempDir dir_;
  kit::async::WorkerPool pool_{1, 8};
};

TEST_F(EmailDestinations, APayloadRoundTripsAndAnythingElseIsRefused) {
  const auto back = kit::outbox::parse_email_payload(kit::outbox::email_payload(kEmail));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->to, kEmail.to);
  EXPECT_EQ(back->subject, kEmail.subject);
  EXPECT_EQ(back->text, kEmail.text);
  EXPECT_EQ(back->html, kEmail.html);
  for (const char* bad : {"", "[]", "{\"to\":\"a@b.c\"}", "{\"type\":\"user.registered\"}",
                          "{\"to\":1,\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\"}"}) {
    EXPECT_FALSE(kit::outbox::parse_email_payload(bad).has_value()) << bad;
  }
}

TEST_F(EmailDestinations, TheEmailServiceGetsTheMessageWithTheEventAsIdempotencyKey) {
  const std::string log = dir_.path().string() + "/requests.jsonl";
  test_support::ScriptServer receiver("http_receiver.py", {log});
  kit::outbox::EmailServiceDestination service("email", port_url(receiver.port(), "/accept"), {},
                                               pool_);
  const Claimed r = row(kit::outbox::email_payload(kEmail));
  const Delivery d = deliver(service, r);
  EXPECT_TRUE(d.delivered) << d.error;
  const std::string seen = test_support::read_text_file(log);
  EXPECT_NE(seen.find("\\\"idempotency_key\\\":\\\"" + r.id), std::string::npos) << seen;
  EXPECT_NE(seen.find("Reset your password, Zo"), std::string::npos) << seen;
  EXPECT_NE(seen.find("reset?token=abc"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"idempotency-key\": \"" + r.id + "\""), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"traceparent\": \"00-"), std::string::npos) << seen;

  kit::outbox::EmailServiceDestination failing("email", port_url(receiver.port(), "/status/500"),
                                               {}, pool_);
  const Delivery refused = deliver(failing, r);
  EXPECT_FALSE(refused.delivered);
  EXPECT_EQ(refused.error, "HTTP 500");
  // Not an email: nothing is sent.
  const Delivery odd = deliver(service, row("{\"type\":\"user.deleted\"}"));
  EXPECT_FALSE(odd.delivered);
  EXPECT_EQ(odd.error, "the outbox row is not an email");
}

TEST_F(EmailDestinations, SmtpSendsItAndARepeatCarriesTheSameMessageId) {
  const std::string maildir = dir_.path().string() + "/mail";
  std::filesystem::create_directories(maildir);
  kit::outbox::SmtpDestination down(
      "email", {.url = "smtp://127.0.0.1:1", .connect_timeout = std::chrono::milliseconds(500)},
      "no-reply@example.com", pool_);
  const Claimed r = row(kit::outbox::email_payload(kEmail));
  const Delivery unreachable = deliver(down, r);
  EXPECT_FALSE(unreachable.delivered);
  EXPECT_FALSE(unreachable.error.empty());

  test_support::ScriptServer server("smtp_receiver.py", {maildir});
  kit::outbox::SmtpDestination smtp("email",
                                    {.url = "smtp://127.0.0.1:" + std::to_string(server.port())},
                                    "no-reply@example.com", pool_);
  const Delivery first = deliver(smtp, r);
  const Delivery again = deliver(smtp, r);
  EXPECT_TRUE(first.delivered) << first.error;
  EXPECT_TRUE(again.delivered) << again.error;
  const std::string id_line = "Message-ID: <" + r.id + "@example.com>";
  for (const char* n : {"/1.eml", "/2.eml"}) {
    const std::string mail = test_support::read_text_file(maildir + n);
    EXPECT_NE(mail.find(id_line), std::string::npos) << mail;
    EXPECT_NE(mail.find("To: zoe@example.org"), std::string::npos) << mail;
  }
}

TEST_F(EmailDestinations, EachEmailServiceCallIsAClientSpanThatItsTraceparentNames) {
  const std::string log = dir_.path().string() + "/requests.jsonl";
  test_support::ScriptServer receiver("http_receiver.py", {log});
  test_support::CollectingSpanSink sink;
  const kit::trace::Tracer tracer(kit::trace::Sampler(), &sink);
  // Credentials and a query in the URL never reach the span.
  const std::string url =
      "http://mailer:s3cret@127.0.0.1:" + std::to_string(receiver.port()) + "/accept?key=k";
  kit::outbox::EmailServiceDestination service("email", url, {}, pool_, tracer);
  const Claimed r = row(kit::outbox::email_payload(kEmail));
  const Delivery d = deliver(service, r);
  EXPECT_TRUE(d.delivered) << d.error;
  auto spans = sink.spans();
  ASSERT_EQ(spans.size(), 1U);
  const auto& span = spans[0];
  EXPECT_EQ(span.name, "POST");
  EXPECT_EQ(span.kind, kit::trace::SpanKind::client);
  EXPECT_EQ(span.parent_span_id, "");
  EXPECT_EQ(span.status, kit::trace::StatusCode::unset);
  EXPECT_EQ(attribute(span, "http.request.method"), "POST");
  EXPECT_EQ(attribute(span, "server.address"), "127.0.0.1");
  EXPECT_EQ(attribute(span, "server.port"), std::to_string(receiver.port()));
  EXPECT_EQ(attribute(span, "url.full"),
            "http://127.0.0.1:" + std::to_string(receiver.port()) + "/accept");
  // (/accept with a query string is not the receiver's /accept: it answers 200)
  EXPECT_EQ(attribute(span, "http.response.status_code"), "200");
  EXPECT_EQ(attribute(span, "messaging.message.id"), r.id);
  EXPECT_EQ(attribute(span, "error.type"), "<missing>");
  const std::string seen = test_support::read_text_file(log);
  EXPECT_NE(seen.find("\"traceparent\": \"00-" + span.trace_id.str() + "-" + span.span_id.str() +
                      "-01\""),
            std::string::npos)
      << seen;
  for (const char* secret : {"s3cret", "mailer", "key=k", "zoe@example.org"}) {
    for (const auto& a : span.attributes) {
      if (const auto* s = std::get_if<std::string>(&a.value)) {
        EXPECT_EQ(s->find(secret), std::string::npos) << a.key << ": " << *s;
      }
    }
  }

  // An error answer: the status code is the error's type.
  kit::outbox::EmailServiceDestination failing("email", port_url(receiver.port(), "/status/503"),
                                               {}, pool_, tracer);
  EXPECT_FALSE(deliver(failing, r).delivered);
  spans = sink.spans();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[1].status, kit::trace::StatusCode::error);
  EXPECT_EQ(attribute(spans[1], "http.response.status_code"), "503");
  EXPECT_EQ(attribute(spans[1], "error.type"), "503");
  EXPECT_NE(spans[1].trace_id, spans[0].trace_id);  // every attempt: a trace of its own

  // No answer: a short class of the failure, no status code.
  kit::outbox::EmailServiceDestination down("email", "http://127.0.0.1:1/send", {}, pool_, tracer);
  EXPECT_FALSE(deliver(down, r).delivered);
  spans = sink.spans();
  ASSERT_EQ(spans.size(), 3U);
  EXPECT_EQ(spans[2].status, kit::trace::StatusCode::error);
  EXPECT_EQ(attribute(spans[2], "error.type"), "connect_failed");
  EXPECT_EQ(attribute(spans[2], "http.response.status_code"), "<missing>");
}

TEST_F(EmailDestinations, NotSampledTheServiceStillGetsATraceparentAndNothingIsRecorded) {
  const std::string log = dir_.path().string() + "/requests.jsonl";
  test_support::ScriptServer receiver("http_receiver.py", {log});
  test_support::CollectingSpanSink sink;
  const kit::trace::Tracer tracer(kit::trace::Sampler(kit::trace::Sampler::Root::always_off, true),
                                  &sink);
  kit::outbox::EmailServiceDestination service("email", port_url(receiver.port(), "/accept"), {},
                                               pool_, tracer);
  EXPECT_TRUE(deliver(service, row(kit::outbox::email_payload(kEmail))).delivered);
  EXPECT_TRUE(sink.spans().empty());
  const std::string seen = test_support::read_text_file(log);
  EXPECT_TRUE(
      std::regex_search(seen, std::regex("\"traceparent\": \"00-[0-9a-f]{32}-[0-9a-f]{16}-00\"")))
      << seen;
}

TEST_F(EmailDestinations, EachSmtpSendIsAClientSpanWithoutTheMessage) {
  const std::string maildir = dir_.path().string() + "/mail";
  std::filesystem::create_directories(maildir);
  test_support::CollectingSpanSink sink;
  const kit::trace::Tracer tracer(kit::trace::Sampler(), &sink);
  const Claimed r = row(kit::outbox::email_payload(kEmail));
  kit::outbox::SmtpDestination down(
      "email",
      {.url = "smtp://user:pw@127.0.0.1:1", .connect_timeout = std::chrono::milliseconds(500)},
      "no-reply@example.com", pool_, tracer);
  EXPECT_FALSE(deliver(down, r).delivered);

  test_support::ScriptServer server("smtp_receiver.py", {maildir});
  kit::outbox::SmtpDestination smtp("email",
                                    {.url = "smtp://127.0.0.1:" + std::to_string(server.port())},
                                    "no-reply@example.com", pool_, tracer);
  const Delivery sent = deliver(smtp, r);
  EXPECT_TRUE(sent.delivered) << sent.error;

  const auto spans = sink.spans();
  ASSERT_EQ(spans.size(), 2U);
  EXPECT_EQ(spans[0].name, "SMTP send");
  EXPECT_EQ(spans[0].kind, kit::trace::SpanKind::client);
  EXPECT_EQ(spans[0].status, kit::trace::StatusCode::error);
  EXPECT_EQ(attribute(spans[0], "error.type"), "connect_failed");
  EXPECT_EQ(attribute(spans[0], "server.port"), "1");
  EXPECT_EQ(spans[1].status, kit::trace::StatusCode::unset);
  EXPECT_EQ(attribute(spans[1], "network.protocol.name"), "smtp");
  EXPECT_EQ(attribute(spans[1], "server.address"), "127.0.0.1");
  EXPECT_EQ(attribute(spans[1], "server.port"), std::to_string(server.port()));
  EXPECT_EQ(attribute(spans[1], "messaging.message.id"), r.id);
  EXPECT_EQ(attribute(spans[1], "error.type"), "<missing>");
  for (const auto& span : spans) {
    for (const auto& a : span.attributes) {
      if (const auto* s = std::get_if<std::string>(&a.value)) {
        for (const char* secret : {"zoe@example.org", "no-reply", "pw", "Reset"}) {
          EXPECT_EQ(s->find(secret), std::string::npos) << a.key << ": " << *s;
        }
      }
    }
  }
}

}  // namespace
