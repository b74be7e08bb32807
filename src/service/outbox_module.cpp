#include "service/outbox_module.hpp"

#include <algorithm>
#include <stdexcept>

#include "kit/log/log.hpp"
#include "kit/outbound/http_post.hpp"
#include "kit/outbound/smtp.hpp"
#include "kit/outbox/email_destinations.hpp"
#include "kit/outbox/webhook_destination.hpp"
#include "kit/security/webhook_signature.hpp"
#include "kit/trace/tracer.hpp"
#include "service/event_destinations.hpp"

namespace user_service {
namespace {

// Blocking outbound calls at once: one per destination, at most this many.
constexpr std::size_t kMaxOutboundThreads = 8;

std::size_t outbound_threads(const Settings& settings) {
  const std::size_t destinations =
      settings.webhook_urls.size() + (user_service::email_destination(settings) ? 1 : 0);
  return std::clamp<std::size_t>(destinations, 1, kMaxOutboundThreads);
}

}  // namespace

kit::outbox::DispatcherOptions dispatcher_options(const Settings& settings) {
  kit::outbox::DispatcherOptions options;
  options.max_age = settings.outbox_max_age;
  return options;
}

services::Events events_for(const Settings& settings) {
  return services::Events(event_destinations(settings));
}

OutboxModule::OutboxModule(const Settings& settings, kit::outbox::Store& store,
                           kit::metrics::Registry* metrics, kit::trace::SpanSink* spans)
    : pool_(outbound_threads(settings), 64), email_(user_service::email_destination(settings)) {
  const kit::trace::Tracer tracer(settings.otel_sampler, spans);
  std::vector<std::unique_ptr<kit::outbox::Destination>> destinations;
  if (!settings.webhook_urls.empty()) {
    auto secret = kit::security::WebhookSecret::parse(settings.webhook_secret);
    if (!secret) throw std::invalid_argument("WEBHOOK_SECRET is not a Standard Webhooks secret");
    for (const auto& url : settings.webhook_urls) {
      webhooks_.push_back(webhook_destination_name(url));
      destinations.push_back(std::make_unique<kit::outbox::WebhookDestination>(
          webhooks_.back(), url, *secret, kit::outbound::HttpOptions{}, pool_, tracer));
    }
  }
  if (email_ && !settings.email_service_url.empty()) {
    email_transport_ = "email_service";
    destinations.push_back(std::make_unique<kit::outbox::EmailServiceDestination>(
        *email_, settings.email_service_url, kit::outbound::HttpOptions{}, pool_, tracer));
  } else if (email_) {
    // Settings refuse SMTP_URL without it; a hand-made Settings gets the same answer at once
    // rather than a failed attempt per email.
    if (settings.email_from.empty()) throw std::invalid_argument("SMTP_URL needs EMAIL_FROM");
    email_transport_ = "smtp";
    kit::outbound::SmtpOptions smtp;
    smtp.url = settings.smtp_url;
    smtp.require_tls = settings.smtp_require_tls;
    destinations.push_back(std::make_unique<kit::outbox::SmtpDestination>(
        *email_, std::move(smtp), settings.email_from, pool_, tracer));
  }
  if (!destinations.empty()) {
    dispatcher_ = std::make_unique<kit::outbox::Dispatcher>(store, std::move(destinations),
                                                            dispatcher_options(settings), metrics);
  }
}

// The pool's threads end before the destinations they call into are gone.
OutboxModule::~OutboxModule() {
  pool_.stop();
}

void OutboxModule::start(boost::asio::any_io_executor executor) {
  // The user events have no receiver without a webhook, even when emails are dispatched.
  if (webhooks_.empty()) {
    kit::log::info("outbox", "outbox_keeping_events",
                   {{"reason", "no webhook destination configured (WEBHOOK_URLS)"},
                    {"email", email_ ? std::string_view(email_transport_) : "none"}});
  }
  if (!dispatcher_) return;
  kit::log::info("outbox", "outbox_dispatching",
                 {{"destinations", static_cast<std::int64_t>(webhooks_.size() + (email_ ? 1 : 0))},
                  {"webhooks", static_cast<std::int64_t>(webhooks_.size())},
                  {"email", email_ ? std::string_view(email_transport_) : "none"}});
  dispatcher_->start(std::move(executor));
}

boost::asio::awaitable<void> OutboxModule::stop() {
  if (dispatcher_) co_await dispatcher_->stop();
}

}  // namespace user_service
