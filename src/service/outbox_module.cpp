#include "service/outbox_module.hpp"

#include <algorithm>
#include <stdexcept>

#include "kit/log/log.hpp"
#include "kit/outbox/webhook_destination.hpp"
#include "kit/security/webhook_signature.hpp"
#include "service/event_destinations.hpp"

namespace user_service {
namespace {

// Blocking outbound calls at once: one per destination, at most this many.
constexpr std::size_t kMaxOutboundThreads = 8;

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
                           kit::metrics::Registry* metrics)
    : pool_(std::clamp<std::size_t>(settings.webhook_urls.size(), 1, kMaxOutboundThreads), 64) {
  std::vector<std::unique_ptr<kit::outbox::Destination>> destinations;
  if (!settings.webhook_urls.empty()) {
    auto secret = kit::security::WebhookSecret::parse(settings.webhook_secret);
    if (!secret) throw std::invalid_argument("WEBHOOK_SECRET is not a Standard Webhooks secret");
    for (const auto& url : settings.webhook_urls) {
      names_.push_back(webhook_destination_name(url));
      destinations.push_back(std::make_unique<kit::outbox::WebhookDestination>(
          names_.back(), url, *secret, kit::outbound::HttpOptions{}, pool_));
    }
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
  if (!dispatcher_) {
    kit::log::info("outbox", "outbox_keeping_events",
                   {{"reason", "no destination configured (WEBHOOK_URLS)"}});
    return;
  }
  kit::log::info("outbox", "outbox_dispatching",
                 {{"destinations", static_cast<std::int64_t>(names_.size())}});
  dispatcher_->start(std::move(executor));
}

boost::asio::awaitable<void> OutboxModule::stop() {
  if (dispatcher_) co_await dispatcher_->stop();
}

}  // namespace user_service
