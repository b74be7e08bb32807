#pragma once
// The delivery of the outbox (docs/events.md) as one unit the application factory owns: the
// destinations the settings name (each webhook URL, and the email destination when
// EMAIL_SERVICE_URL or SMTP_URL is set), a bounded worker pool for their blocking calls, and
// the dispatcher over the database's outbox. The services get events() to write their changes'
// events with, and email_destination() to write their emails for; with no webhook configured
// events are kept in the outbox, and with no destination at all nothing is dispatched. Every
// call a destination makes is a CLIENT span (docs/tracing.md "Outbound calls"), recorded into
// `spans` (the OTLP exporter) as OTEL_TRACES_SAMPLER decides for a new trace.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "kit/async/worker_pool.hpp"
#include "kit/metrics/registry.hpp"
#include "kit/outbox/dispatcher.hpp"
#include "kit/outbox/store.hpp"
#include "kit/trace/sink.hpp"
#include "service/services/events.hpp"
#include "service/settings.hpp"

namespace user_service {

kit::outbox::DispatcherOptions dispatcher_options(const Settings& settings);

// The events the settings' destinations receive (for the services, the server's and the CLI's).
services::Events events_for(const Settings& settings);

class OutboxModule {
 public:
  // `spans` null (tracing off): no span is recorded, the receivers still get a traceparent. It
  // outlives this module.
  OutboxModule(const Settings& settings, kit::outbox::Store& store,
               kit::metrics::Registry* metrics = nullptr, kit::trace::SpanSink* spans = nullptr);
  OutboxModule(const OutboxModule&) = delete;
  OutboxModule& operator=(const OutboxModule&) = delete;
  ~OutboxModule();

  // What the services write events with: one message per webhook configured here (the email
  // destination receives no events).
  services::Events events() const { return services::Events(webhooks_); }

  // The destination to write email rows for (kEmailDestination), or nullopt when no email
  // setting is set and emails are only logged.
  std::optional<std::string> email_destination() const { return email_; }

  // The dispatcher's rounds on `executor`, when there is any destination.
  void start(boost::asio::any_io_executor executor);
  boost::asio::awaitable<void> stop();

 private:
  kit::async::WorkerPool pool_;
  std::vector<std::string> webhooks_;
  std::optional<std::string> email_;
  std::string email_transport_;  // "smtp" or "email_service", for the start log
  std::unique_ptr<kit::outbox::Dispatcher> dispatcher_;
};

}  // namespace user_service
