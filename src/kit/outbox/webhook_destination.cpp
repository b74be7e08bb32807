#include "kit/outbox/webhook_destination.hpp"

#include <exception>
#include <utility>

#include "kit/http/trace_context.hpp"

namespace kit::outbox {

WebhookDestination::WebhookDestination(std::string name, std::string url,
                                       security::WebhookSecret secret, outbound::HttpOptions http,
                                       async::WorkerPool& pool, Clock clock)
    : name_(std::move(name)),
      url_(std::move(url)),
      secret_(std::move(secret)),
      http_(std::move(http)),
      pool_(pool),
      clock_(std::move(clock)) {}

boost::asio::awaitable<Delivery> WebhookDestination::deliver(const Claimed& row) {
  const std::int64_t timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  outbound::Headers headers{
      {"Content-Type", "application/json"},
      {"webhook-id", row.id},
      {"webhook-timestamp", std::to_string(timestamp)},
      {"webhook-signature", secret_.sign(row.id, timestamp, row.payload)},
      // Each attempt starts a trace of its own, so the receiver's logs and ours can be joined
      // by its id.
      {"traceparent", http::make_trace_context("").traceparent()},
  };
  auto call = [this, &row, headers = std::move(headers)] {
    return outbound::post(http_, url_, headers, row.payload);
  };
  Delivery result;
  try {
    const outbound::HttpResponse response = co_await pool_.run(std::move(call));
    result.delivered = response.success();
    if (!result.delivered) result.error = "HTTP " + std::to_string(response.status);
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  co_return result;
}

}  // namespace kit::outbox
