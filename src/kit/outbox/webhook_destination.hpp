#pragma once
// An outbox Destination that POSTs each row's payload to a webhook receiver, signed as Standard
// Webhooks defines it (docs/events.md "Webhooks"): `webhook-id` is the event id (the
// receiver's idempotency key), `webhook-timestamp` the attempt's time, `webhook-signature` the
// HMAC of both and the body. Every attempt is a CLIENT span of a trace of its own, whose
// `traceparent` it carries (docs/tracing.md "Outbound calls"). The call blocks (libcurl),
// so it runs on the bounded worker pool given, never on an I/O thread; a 2xx answer is a
// delivery, anything else (or no answer) a failure the dispatcher retries.
#include <chrono>
#include <functional>
#include <string>

#include "kit/async/worker_pool.hpp"
#include "kit/outbound/http_post.hpp"
#include "kit/outbox/dispatcher.hpp"
#include "kit/security/webhook_signature.hpp"
#include "kit/trace/tracer.hpp"

namespace kit::outbox {

class WebhookDestination final : public Destination {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `name` labels metrics and logs (never the URL: it may hold credentials). `tracer` records
  // each attempt's span (the default records none; the traceparent is sent all the same).
  WebhookDestination(
      std::string name, std::string url, security::WebhookSecret secret, outbound::HttpOptions http,
      async::WorkerPool& pool, trace::Tracer tracer = {},
      Clock clock = [] { return std::chrono::system_clock::now(); });

  const std::string& name() const noexcept override { return name_; }
  boost::asio::awaitable<Delivery> deliver(const Claimed& row) override;

 private:
  std::string name_;
  std::string url_;
  trace::ServerEndpoint endpoint_;  // the span's view of url_: no credential, no query
  security::WebhookSecret secret_;
  outbound::HttpOptions http_;
  async::WorkerPool& pool_;
  trace::Tracer tracer_;
  Clock clock_;
};

}  // namespace kit::outbox
