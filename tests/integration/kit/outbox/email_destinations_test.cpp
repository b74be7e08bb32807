// The email destinations of the outbox (docs/events.md "Delivery") against real servers: an HTTP
// email service (tests/support/http_receiver.py) and an SMTP server (tests/support/
// smtp_receiver.py, aiosmtpd), with the event id as the repeat's mark on both.
#include "kit/outbox/email_destinations.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "kit/async/worker_pool.hpp"
#include "tests/support/run_coroutine.hpp"
#include "tests/support/script_server.hpp"
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

}  // namespace
