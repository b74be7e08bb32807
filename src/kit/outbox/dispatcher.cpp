#include "kit/outbox/dispatcher.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/log/log.hpp"
#include "kit/util/random.hpp"

namespace kit::outbox {
namespace {

constexpr std::string_view kLogger = "outbox";
constexpr std::size_t kPurgeBatch = 1000;

double unit_random() noexcept {
  return static_cast<double>(util::fast_random() >> 11) * 0x1.0p-53;
}

std::int64_t millis(std::chrono::microseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

struct Dispatcher::Lane {
  std::unique_ptr<Destination> destination;
  async::CircuitBreaker breaker;
  metrics::Counter* delivered = nullptr;
  metrics::Counter* failed = nullptr;
  metrics::Counter* dead = nullptr;
  metrics::Gauge* open = nullptr;
  metrics::Counter* openings = nullptr;

  const std::string& name() const noexcept { return destination->name(); }
};

Dispatcher::Dispatcher(Store& store, std::vector<std::unique_ptr<Destination>> destinations,
                       DispatcherOptions options, metrics::Registry* metrics, Clock clock)
    : store_(store), options_(options), metrics_(metrics), clock_(std::move(clock)) {
  options_.batch = std::max<std::size_t>(options_.batch, 1);
  metrics::GaugeFamily* open = nullptr;
  metrics::CounterFamily* openings = nullptr;
  if (metrics_ != nullptr) {
    deliveries_ = &metrics_->counter(
        "outbox_deliveries_total",
        "Outbox rows handled by this replica, by destination and result: delivered, failed (to "
        "be tried again), dead (given up after OUTBOX_MAX_AGE_HOURS).",
        {"destination", "result"});
    pending_ = &metrics_
                    ->gauge("outbox_pending",
                            "Outbox rows still to deliver, all destinations and replicas (as "
                            "counted by this replica's last upkeep).")
                    .labels();
    oldest_age_ = &metrics_
                       ->gauge("outbox_oldest_age_seconds",
                               "Age of the oldest outbox row still to deliver (0 when none), as "
                               "of this replica's last upkeep.")
                       .labels();
    open = &metrics_->gauge("outbox_breaker_open",
                            "1 while this replica's circuit breaker for the destination is open "
                            "(its rows wait), else 0.",
                            {"destination"});
    openings = &metrics_->counter(
        "outbox_breaker_openings_total",
        "Times this replica's circuit breaker for the destination opened.", {"destination"});
  }
  for (auto& destination : destinations) {
    auto lane = std::make_unique<Lane>(
        Lane{std::move(destination), async::CircuitBreaker(options_.breaker)});
    if (deliveries_ != nullptr) {
      lane->delivered = &deliveries_->labels(lane->name(), "delivered");
      lane->failed = &deliveries_->labels(lane->name(), "failed");
      lane->dead = &deliveries_->labels(lane->name(), "dead");
      lane->open = &open->labels(lane->name());
      lane->openings = &openings->labels(lane->name());
    }
    lanes_.push_back(std::move(lane));
  }
}

Dispatcher::~Dispatcher() = default;

Timestamp Dispatcher::now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(clock_());
}

std::uint64_t Dispatcher::breaker_openings(std::string_view destination) const {
  for (const auto& lane : lanes_) {
    if (lane->name() == destination) return lane->breaker.openings();
  }
  return 0;
}

boost::asio::awaitable<std::size_t> Dispatcher::run_once(bool force_upkeep) {
  const auto steady = std::chrono::steady_clock::now();
  if (force_upkeep || steady >= next_upkeep_) {
    next_upkeep_ = steady + options_.upkeep;
    try {
      co_await upkeep();
    } catch (const std::exception& e) {
      log::warning(kLogger, "outbox_upkeep_failed", {{"error", e.what()}});
    }
  }
  std::size_t handled = 0;
  for (auto& lane : lanes_) {
    try {
      handled += co_await run_lane(*lane);
    } catch (const std::exception& e) {
      // The store failed (the database is down): rows claimed and not marked keep their lease
      // and are claimed again when it runs out, so nothing is lost, at worst sent twice.
      log::warning(kLogger, "outbox_store_failed",
                   {{"destination", lane->name()}, {"error", e.what()}});
    }
  }
  co_return handled;
}

boost::asio::awaitable<std::size_t> Dispatcher::run_lane(Lane& lane) {
  if (stopping_.load()) co_return 0;
  if (!lane.breaker.allow(std::chrono::steady_clock::now())) co_return 0;
  // Half-open: one row is the trial.
  const bool trial = lane.breaker.state() == async::CircuitBreaker::State::half_open;
  std::vector<Claimed> rows;
  try {
    rows = co_await store_.claim(lane.name(), trial ? 1 : options_.batch, now(), options_.lease);
  } catch (...) {
    lane.breaker.cancel();
    throw;
  }
  if (rows.empty()) {
    lane.breaker.cancel();
    co_return 0;
  }
  std::size_t handled = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Claimed& row = rows[i];
    const auto steady = std::chrono::steady_clock::now();
    // Past the first row, each call asks the breaker again: once it opened, the rest of the
    // batch waits (released now, claimed again when the breaker lets calls through), and so
    // does a row whose lease could run out while it is being delivered, and the rest of the
    // batch when the service is stopping (another replica takes it at once).
    const bool lease_left = now() + options_.attempt_timeout < row.lease_until;
    if ((i > 0 && !lane.breaker.allow(steady)) || !lease_left || stopping_.load()) {
      // No call is made: a trial allow() may just have granted goes back to the breaker.
      lane.breaker.cancel();
      for (std::size_t j = i; j < rows.size(); ++j) co_await store_.release(rows[j]);
      break;
    }
    Delivery result;
    try {
      result = co_await lane.destination->deliver(row);
    } catch (const std::exception& e) {
      result = Delivery{false, e.what()};
    } catch (...) {
      result = Delivery{false, "unknown error"};
    }
    ++handled;
    const Timestamp at = now();
    if (result.delivered) {
      const bool was_closed = lane.breaker.state() == async::CircuitBreaker::State::closed;
      lane.breaker.record_success();
      co_await store_.mark_delivered(row, at);
      if (lane.delivered != nullptr) lane.delivered->inc();
      if (!was_closed) {
        if (lane.open != nullptr) lane.open->set(0);
        log::info(kLogger, "outbox_breaker_closed", {{"destination", lane.name()}});
      }
      continue;
    }
    const auto openings = lane.breaker.openings();
    lane.breaker.record_failure(std::chrono::steady_clock::now());
    if (lane.breaker.openings() != openings) {
      if (lane.open != nullptr) lane.open->set(1);
      if (lane.openings != nullptr) lane.openings->inc();
      log::warning(kLogger, "outbox_breaker_opened",
                   {{"destination", lane.name()},
                    {"open_for_ms", static_cast<std::int64_t>(options_.breaker.open_for.count())}});
    }
    if (at - row.created_at >= options_.max_age) {
      co_await store_.mark_dead(row, at, result.error);
      if (lane.dead != nullptr) lane.dead->inc();
      log::error(kLogger, "outbox_dead",
                 {{"destination", lane.name()},
                  {"event_id", row.id},
                  {"type", row.type},
                  {"attempts", static_cast<std::int64_t>(row.attempts)},
                  {"error", result.error}});
      continue;
    }
    const auto wait =
        options_.backoff.delay(static_cast<unsigned>(std::max(row.attempts - 1, 0)), unit_random());
    co_await store_.reschedule(row, at + wait, result.error);
    if (lane.failed != nullptr) lane.failed->inc();
    log::warning(kLogger, "outbox_delivery_failed",
                 {{"destination", lane.name()},
                  {"event_id", row.id},
                  {"type", row.type},
                  {"attempt", static_cast<std::int64_t>(row.attempts)},
                  {"retry_in_ms", static_cast<std::int64_t>(wait.count())},
                  {"error", result.error}});
  }
  co_return handled;
}

boost::asio::awaitable<void> Dispatcher::upkeep() {
  const Timestamp at = now();
  const auto expired = co_await store_.expire(at - options_.max_age, at);
  for (const auto& [destination, rows] : expired) {
    if (deliveries_ != nullptr) {
      deliveries_->labels(destination, "dead").inc(static_cast<std::uint64_t>(rows));
    }
    log::error(kLogger, "outbox_dead",
               {{"destination", destination}, {"rows", rows}, {"error", "expired"}});
  }
  const Stats stats = co_await store_.stats();
  if (pending_ != nullptr) pending_->set(static_cast<double>(stats.pending));
  if (oldest_age_ != nullptr) {
    oldest_age_->set(stats.oldest ? static_cast<double>(millis(at - *stats.oldest)) / 1000.0 : 0);
  }
  const std::int64_t purged = co_await store_.purge(at - options_.keep_finished, kPurgeBatch);
  if (purged > 0) log::info(kLogger, "outbox_purged", {{"rows", purged}});
}

void Dispatcher::start(boost::asio::any_io_executor executor) {
  timer_ = std::make_unique<boost::asio::steady_timer>(executor);
  running_.store(true);
  done_.store(false);
  boost::asio::co_spawn(executor, loop(), boost::asio::detached);
}

boost::asio::awaitable<void> Dispatcher::loop() {
  while (running_.load()) {
    std::size_t handled = 0;
    try {
      handled = co_await run_once();
    } catch (const std::exception& e) {
      log::warning(kLogger, "outbox_round_failed", {{"error", e.what()}});
    }
    if (!running_.load()) break;
    // Work found: look again at once (the next round finds the rows it unblocked).
    timer_->expires_after(handled > 0 ? std::chrono::milliseconds(0) : options_.poll);
    boost::system::error_code ec;
    co_await timer_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  done_.store(true);
}

boost::asio::awaitable<void> Dispatcher::stop() {
  stopping_.store(true);
  if (!timer_) co_return;
  running_.store(false);
  boost::asio::post(timer_->get_executor(), [this] { timer_->cancel(); });
  // A delivery under way is bounded by its destination's timeout; wait a little longer.
  boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor);
  const auto give_up =
      std::chrono::steady_clock::now() + options_.attempt_timeout + std::chrono::seconds(2);
  while (!done_.load() && std::chrono::steady_clock::now() < give_up) {
    wait.expires_after(std::chrono::milliseconds(10));
    boost::system::error_code ec;
    co_await wait.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

}  // namespace kit::outbox
