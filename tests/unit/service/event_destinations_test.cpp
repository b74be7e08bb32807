// The destinations the settings name (docs/events.md "Webhooks", "Emails"): no credential, query
// or fragment of a webhook URL reaches the outbox, a metric label or a log line; the emails have
// one destination, "email", whichever way they are sent, and it receives no user event. The
// OutboxModule tests run its dispatcher against an in-memory outbox holding one email row: with
// the email destination as the only one, the row is claimed and handed to the transport the
// settings chose (an HTTP email service on this io_context, or an SMTP server that refuses).
#include <utility>  // before Asio (GCC 12, Boost 1.74)

#include "service/event_destinations.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "kit/outbox/email_destinations.hpp"
#include "kit/outbox/store.hpp"
#include "service/outbox_module.hpp"
#include "tests/support/run_coroutine.hpp"

// GCC 12 reports a false -Wmismatched-new-delete in coroutine ramps: Asio's frame operator new
// (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace user_service {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using kit::outbox::Claimed;
using kit::outbox::Timestamp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

TEST(EventDestinations, AWebhookIsNamedByItsUrlWithoutCredentialsQueryOrFragment) {
  EXPECT_EQ(webhook_destination_name("https://hooks.example.com/users"),
            "webhook https://hooks.example.com/users");
  EXPECT_EQ(webhook_destination_name("http://user:secret@10.0.0.5:9000/in?token=abc#x"),
            "webhook http://10.0.0.5:9000/in");
  EXPECT_EQ(webhook_destination_name("https://a.example:8443"), "webhook https://a.example:8443");
}

TEST(EventDestinations, OnePerWebhookUrlInTheSettingsOrder) {
  Settings settings;
  EXPECT_TRUE(event_destinations(settings).empty());
  settings.webhook_urls = {"https://b.example/h", "http://k:v@a.example/h"};
  EXPECT_THAT(event_destinations(settings),
              ::testing::ElementsAre("webhook https://b.example/h", "webhook http://a.example/h"));
}

TEST(EventDestinations, EmailsHaveOneDestinationWhicheverWayTheyAreSent) {
  EXPECT_EQ(kEmailDestination, "email");
  Settings settings;
  EXPECT_EQ(email_destination(settings), std::nullopt);
  settings.email_from = "no-reply@example.com";  // a sender alone sends nothing
  EXPECT_EQ(email_destination(settings), std::nullopt);
  settings.smtp_url = "smtp://u:p@mx.example.com:587";
  EXPECT_THAT(email_destination(settings), Optional(std::string("email")));
  settings.smtp_url.clear();
  settings.email_service_url = "https://mail.example.com/send";
  EXPECT_THAT(email_destination(settings), Optional(std::string("email")));
}

TEST(EventDestinations, TheEmailDestinationReceivesNoUserEvent) {
  Settings settings;
  settings.email_service_url = "https://mail.example.com/send";
  EXPECT_TRUE(event_destinations(settings).empty());
  settings.webhook_urls = {"https://b.example/h"};
  EXPECT_THAT(event_destinations(settings), ElementsAre("webhook https://b.example/h"));
}

// ---- OutboxModule ------------------------------------------------------------------------------

const Timestamp kT0{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}};

// An outbox holding one pending email row for "email". It records which destinations were
// claimed and how the row ended; everything runs on the test's io_context.
class OneEmailStore final : public kit::outbox::Store {
 public:
  OneEmailStore() {
    row_.seq = 1;
    row_.id = "0193a0b0-0000-7000-8000-000000000001";
    row_.destination = std::string(kEmailDestination);
    row_.ordering_key = "user-1";
    row_.type = "email";
    row_.payload = kit::outbox::email_payload({.to = "ada@example.com",
                                               .subject = "Verify your email",
                                               .text = "Open the link",
                                               .html = "<p>Open the link</p>"});
    row_.created_at = kT0;
  }

  const Claimed& row() const { return row_; }
  bool finished() const { return delivered || error.has_value(); }

  asio::awaitable<std::vector<Claimed>> claim(std::string_view destination, std::size_t,
                                              Timestamp now,
                                              std::chrono::milliseconds lease) override {
    claimed.emplace_back(destination);
    std::vector<Claimed> out;
    if (destination == row_.destination && !claimed_once_) {
      claimed_once_ = true;
      row_.attempts = 1;
      row_.lease_until = now + lease;
      out.push_back(row_);
    }
    co_return out;
  }
  asio::awaitable<void> mark_delivered(const Claimed&, Timestamp) override {
    delivered = true;
    co_return;
  }
  asio::awaitable<void> reschedule(const Claimed&, Timestamp, std::string_view e) override {
    error = std::string(e);
    co_return;
  }
  asio::awaitable<void> release(const Claimed&) override { co_return; }
  asio::awaitable<void> mark_dead(const Claimed&, Timestamp, std::string_view e) override {
    error = "dead: " + std::string(e);
    co_return;
  }
  asio::awaitable<std::vector<std::pair<std::string, std::int64_t>>> expire(Timestamp,
                                                                            Timestamp) override {
    co_return std::vector<std::pair<std::string, std::int64_t>>{};
  }
  asio::awaitable<kit::outbox::Stats> stats() override { co_return kit::outbox::Stats{}; }
  asio::awaitable<std::int64_t> purge(Timestamp, std::size_t) override { co_return 0; }

  std::vector<std::string> claimed;
  bool delivered = false;
  std::optional<std::string> error;

 private:
  Claimed row_;
  bool claimed_once_ = false;
};

// An HTTP email service on the test's io_context: answers one POST with 202 and keeps it.
class EmailService {
 public:
  explicit EmailService(asio::io_context& io)
      : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  std::string url() const {
    return "http://api:svc-pw@127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           "/v1/send";
  }
  const std::optional<http::request<http::string_body>>& request() const { return request_; }

 private:
  asio::awaitable<void> serve() {
    try {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      http::response<http::string_body> response(http::status::accepted, request.version());
      response.set(http::field::connection, "close");
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
      request_ = std::move(request);
    } catch (const std::exception&) {
      // The test fails on the missing request.
    }
  }

  asio::ip::tcp::acceptor acceptor_;
  std::optional<http::request<http::string_body>> request_;
};

// Runs `io` until the store's row has an outcome (bounded), then stops the module.
void dispatch_until_finished(asio::io_context& io, OutboxModule& module, OneEmailStore& store) {
  auto work = asio::make_work_guard(io);
  module.start(io.get_executor());
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!store.finished() && std::chrono::steady_clock::now() < give_up) io.run_one_for(100ms);
  work.reset();
  test_support::run_coroutine(io, module.stop());
}

TEST(EventDestinations, TheOutboxModuleSendsEmailsToTheEmailServiceAlone) {
  asio::io_context io;
  EmailService service(io);
  OneEmailStore store;
  Settings settings;
  settings.email_service_url = service.url();
  settings.public_base_url = "https://users.example.com";
  OutboxModule module(settings, store);
  EXPECT_THAT(module.email_destination(), Optional(std::string("email")));
  // User events are kept: the email destination is not theirs.
  const auto events = module.events().user_deleted("user-1", kT0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].destination, kit::outbox::kKept);

  dispatch_until_finished(io, module, store);
  EXPECT_TRUE(store.delivered) << store.error.value_or("no outcome");
  EXPECT_THAT(store.claimed, ::testing::Each(std::string("email")));
  ASSERT_TRUE(service.request().has_value());
  const auto& request = *service.request();
  EXPECT_EQ(request.method(), http::verb::post);
  EXPECT_EQ(request.target(), "/v1/send");
  EXPECT_EQ(request["Idempotency-Key"], store.row().id);
  EXPECT_THAT(request.body(), HasSubstr("\"to\":\"ada@example.com\""));
  EXPECT_THAT(request.body(), HasSubstr("\"idempotency_key\":\"" + store.row().id + "\""));
}

TEST(EventDestinations, TheOutboxModuleSendsEmailsOverSmtpWhenSmtpUrlIsSet) {
  asio::io_context io;
  // A port nobody listens on: the SMTP attempt is refused and the row waits for a retry.
  std::uint16_t closed_port = 0;
  {
    asio::ip::tcp::acceptor probe(io,
                                  asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  OneEmailStore store;
  Settings settings;
  settings.smtp_url = "smtp://mailer:smtp-pw@127.0.0.1:" + std::to_string(closed_port);
  settings.smtp_require_tls = true;
  settings.email_from = "no-reply@example.com";
  settings.webhook_urls = {"http://127.0.0.1:" + std::to_string(closed_port) + "/hook"};
  settings.webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0ZEBIIbRXUs=";
  OutboxModule module(settings, store);
  EXPECT_THAT(module.email_destination(), Optional(std::string("email")));
  const auto events = module.events().user_deleted("user-1", kT0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].destination,
            "webhook http://127.0.0.1:" + std::to_string(closed_port) + "/hook");

  dispatch_until_finished(io, module, store);
  EXPECT_FALSE(store.delivered);
  ASSERT_TRUE(store.error.has_value());
  EXPECT_FALSE(store.error->empty());
  EXPECT_THAT(*store.error, ::testing::Not(HasSubstr("smtp-pw")));
  EXPECT_THAT(store.claimed, ::testing::Contains(std::string("email")));
}

TEST(EventDestinations, WithoutEmailSettingsTheOutboxModuleHasNoEmailDestination) {
  asio::io_context io;
  OneEmailStore store;
  Settings settings;
  settings.email_from = "no-reply@example.com";
  OutboxModule module(settings, store);
  EXPECT_EQ(module.email_destination(), std::nullopt);
  module.start(io.get_executor());
  io.run();  // nothing to dispatch: returns at once
  EXPECT_TRUE(store.claimed.empty());
  test_support::run_coroutine(io, module.stop());
}

}  // namespace
}  // namespace user_service

#pragma GCC diagnostic pop
