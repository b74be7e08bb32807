#include "kit/outbox/email_destinations.hpp"

#include <rapidjson/document.h>

#include <stdexcept>
#include <utility>

#include "kit/json/writer.hpp"
#include "kit/outbox/blocking_call.hpp"
#include "kit/outbox/traced_post.hpp"

namespace kit::outbox {
namespace {

std::optional<std::string> member(const rapidjson::Document& doc, const char* key) {
  const auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

std::string email_payload(const Email& email) {
  json::Writer w;
  w.begin_object()
      .field("to", email.to)
      .field("subject", email.subject)
      .field("text", email.text)
      .field("html", email.html)
      .end_object();
  return std::move(w).str();
}

std::optional<Email> parse_email_payload(std::string_view payload) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(payload.data(), payload.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto to = member(doc, "to");
  auto subject = member(doc, "subject");
  auto text = member(doc, "text");
  auto html = member(doc, "html");
  if (!to || !subject || !text || !html) return std::nullopt;
  return Email{std::move(*to), std::move(*subject), std::move(*text), std::move(*html)};
}

EmailServiceDestination::EmailServiceDestination(std::string name, std::string url,
                                                 outbound::HttpOptions http,
                                                 async::WorkerPool& pool, trace::Tracer tracer)
    : name_(std::move(name)),
      url_(std::move(url)),
      endpoint_(trace::server_endpoint(url_)),
      http_(std::move(http)),
      pool_(pool),
      tracer_(tracer) {}

boost::asio::awaitable<Delivery> EmailServiceDestination::deliver(const Claimed& row) {
  const auto email = parse_email_payload(row.payload);
  if (!email) co_return Delivery{false, "the outbox row is not an email"};
  json::Writer body;
  body.begin_object()
      .field("to", email->to)
      .field("subject", email->subject)
      .field("text", email->text)
      .field("html", email->html)
      .field("idempotency_key", row.id)
      .end_object();
  outbound::Headers headers{{"Content-Type", "application/json"}, {"Idempotency-Key", row.id}};
  // traced_post() adds the traceparent of the attempt's CLIENT span.
  auto call = [this, &row, headers = std::move(headers), body = std::move(body).str()] {
    return http_delivery(traced_post(tracer_, endpoint_, http_, url_, headers, body, row.id));
  };
  co_return co_await deliver_on(pool_, std::move(call));
}

SmtpDestination::SmtpDestination(std::string name, outbound::SmtpOptions smtp, std::string from,
                                 async::WorkerPool& pool, trace::Tracer tracer)
    : name_(std::move(name)),
      smtp_(std::move(smtp)),
      endpoint_(trace::server_endpoint(smtp_.url)),
      from_(std::move(from)),
      pool_(pool),
      tracer_(tracer) {}

boost::asio::awaitable<Delivery> SmtpDestination::deliver(const Claimed& row) {
  auto email = parse_email_payload(row.payload);
  if (!email) co_return Delivery{false, "the outbox row is not an email"};
  outbound::MailMessage message{.from = from_,
                                .to = std::move(email->to),
                                .subject = std::move(email->subject),
                                .text = std::move(email->text),
                                .html = std::move(email->html),
                                .message_key = row.id};
  auto call = [this, &row, message = std::move(message)] {
    // A CLIENT span of a trace of its own (docs/tracing.md "Outbound calls"): the server, never
    // the sender, the recipient or the message.
    trace::RootSpan span = tracer_.start("SMTP send", trace::SpanKind::client);
    span.attribute("network.protocol.name", "smtp");
    span.attribute("server.address", endpoint_.address);
    if (endpoint_.port != 0) span.attribute("server.port", endpoint_.port);
    span.attribute("messaging.message.id", row.id);
    try {
      outbound::send_mail(smtp_, message);
    } catch (const std::invalid_argument&) {
      span.fail("invalid_message");
      throw;
    } catch (const std::exception& e) {
      span.fail(outbound_error_type(e));
      throw;
    }
    return Delivery{true, ""};
  };
  co_return co_await deliver_on(pool_, std::move(call));
}

}  // namespace kit::outbox
