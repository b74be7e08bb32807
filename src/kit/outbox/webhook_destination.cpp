#include "kit/outbox/webhook_destination.hpp"

#include <utility>

#include "kit/http/trace_context.hpp"
#include "kit/outbox/blocking_call.hpp"

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
    return http_delivery(outbound::post(http_, url_, headers, row.payload));
  };
  co_return co_await deliver_on(pool_, std::move(call));
}

}  // namespace kit::outbox
