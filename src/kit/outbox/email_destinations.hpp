#pragma once
// Outbox Destinations for emails (docs/events.md "Delivery"): an outbox row for an email holds
// the message as JSON, {"to","subject","text","html"} (email_payload()), and is sent either to
// an HTTP email service or over SMTP. Both calls block (libcurl), so they run on the bounded
// worker pool given, never on an I/O thread. The row's event id makes a repeat recognisable:
// the email service gets it as `idempotency_key`, SMTP as the Message-ID's local part. Every
// attempt is a CLIENT span of a trace of its own, recorded by the `tracer` given (the default
// records none); the email service gets its `traceparent` (docs/tracing.md "Outbound calls").
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kit/async/worker_pool.hpp"
#include "kit/outbound/http_post.hpp"
#include "kit/outbound/smtp.hpp"
#include "kit/outbox/dispatcher.hpp"
#include "kit/trace/tracer.hpp"

namespace kit::outbox {

struct Email {
  std::string to = {};
  std::string subject = {};
  std::string text = {};
  std::string html = {};
};

// The payload of an email's outbox row, and back (nullopt: not such a payload).
std::string email_payload(const Email& email);
std::optional<Email> parse_email_payload(std::string_view payload);

// POSTs {"to","subject","text","html","idempotency_key"} as JSON to an email service; a 2xx
// answer is a delivery.
class EmailServiceDestination final : public Destination {
 public:
  EmailServiceDestination(std::string name, std::string url, outbound::HttpOptions http,
                          async::WorkerPool& pool, trace::Tracer tracer = {});
  const std::string& name() const noexcept override { return name_; }
  boost::asio::awaitable<Delivery> deliver(const Claimed& row) override;

 private:
  std::string name_;
  std::string url_;
  trace::ServerEndpoint endpoint_;  // the span's view of url_: no credential, no query
  outbound::HttpOptions http_;
  async::WorkerPool& pool_;
  trace::Tracer tracer_;
};

// Sends the email over SMTP (outbound::send_mail) from `from`; the server taking it is a
// delivery. Its span is named `SMTP send` (SMTP carries no traceparent).
class SmtpDestination final : public Destination {
 public:
  SmtpDestination(std::string name, outbound::SmtpOptions smtp, std::string from,
                  async::WorkerPool& pool, trace::Tracer tracer = {});
  const std::string& name() const noexcept override { return name_; }
  boost::asio::awaitable<Delivery> deliver(const Claimed& row) override;

 private:
  std::string name_;
  outbound::SmtpOptions smtp_;
  trace::ServerEndpoint endpoint_;  // the span's view of the URL: no credential
  std::string from_;
  async::WorkerPool& pool_;
  trace::Tracer tracer_;
};

}  // namespace kit::outbox
