#include "kit/outbox/webhook_destination.hpp"

#include <utility>

#include "kit/outbox/blocking_call.hpp"
#include "kit/outbox/traced_post.hpp"

namespace kit::outbox {

WebhookDestination::WebhookDestination(std::string name, std::string url,
                                       security::WebhookSecret secret, outbound::HttpOptions http,
                                       async::WorkerPool& pool, trace::Tracer tracer, Clock clock)
    : name_(std::move(name)),
      url_(std::move(url)),
      endpoint_(trace::server_endpoint(url_)),
      secret_(std::move(secret)),
      http_(std::move(http)),
      pool_(pool),
      tracer_(tracer),
      clock_(std::move(clock)) {}

boost::asio::awaitable<Delivery> WebhookDestination::deliver(const Claimed& row) {
  const std::int64_t timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  outbound::Headers headers{
      {"Content-Type", "application/json"},
      {"webhook-id", row.id},
      {"webhook-timestamp", std::to_string(timestamp)},
      {"webhook-signature", secret_.sign(row.id, timestamp, row.payload)},
  };
  // Each attempt is a CLIENT span of a trace of its own, named by the traceparent it sends, so
  // the receiver's logs and our trace can be joined by its id.
  auto call = [this, &row, headers = std::move(headers)] {
    return http_delivery(
        traced_post(tracer_, endpoint_, http_, url_, headers, row.payload, row.id));
  };
  co_return co_await deliver_on(pool_, std::move(call));
}

}  // namespace kit::outbox
