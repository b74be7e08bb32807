#pragma once
// The outbox's dispatcher (docs/events.md "Delivery"): on every replica, it claims due rows
// destination by destination, in bounded batches, and hands each to its Destination. A row
// that fails waits an exponential backoff with jitter and is tried again, until it is older
// than `max_age`: then it is dead. Each destination has a circuit breaker, so a failing
// endpoint is not hammered: while it is open, that destination's rows are not claimed.
// Delivery is at least once, in order per ordering key (a failed row holds back the later rows
// of its key), with the event id as the receiver's idempotency key.
//
// Metrics (when a registry is given): outbox_deliveries_total{destination,result}
// (delivered, failed, dead), outbox_pending and outbox_oldest_age_seconds (every replica
// reports the whole outbox), outbox_breaker_open{destination} and
// outbox_breaker_openings_total{destination}. Log events: outbox_delivery_failed (warning),
// outbox_dead (error), outbox_breaker_opened (warning), outbox_breaker_closed (info).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "kit/async/backoff.hpp"
#include "kit/async/circuit_breaker.hpp"
#include "kit/metrics/registry.hpp"
#include "kit/outbox/message.hpp"
#include "kit/outbox/store.hpp"

namespace kit::outbox {

struct Delivery {
  bool delivered = false;
  std::string error = {};  // why not, in words fit for a log (never a secret or a URL)
};

// Where rows of one destination go. deliver() throws nothing it can answer: a failure is a
// Delivery with delivered = false.
class Destination {
 public:
  virtual ~Destination() = default;
  virtual const std::string& name() const noexcept = 0;
  virtual boost::asio::awaitable<Delivery> deliver(const Claimed& row) = 0;
};

struct DispatcherOptions {
  std::size_t batch = 50;                   // rows claimed per destination and round
  std::chrono::milliseconds poll{1000};     // the wait after a round that found nothing
  std::chrono::milliseconds lease{60'000};  // a claimed batch is delivered within it
  // The longest one delivery may take (the destinations' own total timeout, and a margin): a
  // row whose lease ends sooner is released instead of being delivered late.
  std::chrono::milliseconds attempt_timeout{12'000};
  std::chrono::milliseconds max_age{72 * 3'600'000LL};  // OUTBOX_MAX_AGE_HOURS
  async::Backoff backoff{std::chrono::seconds(1), std::chrono::minutes(15)};
  async::CircuitBreaker::Options breaker{5, std::chrono::seconds(30)};
  std::chrono::milliseconds upkeep{15'000};  // expiry, gauges and the purge, this often
  std::chrono::milliseconds keep_finished{7 * 24 * 3'600'000LL};  // then purged
};

class Dispatcher {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  Dispatcher(
      Store& store, std::vector<std::unique_ptr<Destination>> destinations,
      DispatcherOptions options, metrics::Registry* metrics = nullptr,
      Clock clock = [] { return std::chrono::system_clock::now(); });
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  ~Dispatcher();

  // Rounds on `executor` until stop(): after a round that delivered a full batch the next
  // starts at once, otherwise after `poll`.
  void start(boost::asio::any_io_executor executor);
  // Ends the loop; a round under way finishes its current delivery (bounded by the
  // destinations' own timeouts) and releases the rest of its batch for another replica.
  boost::asio::awaitable<void> stop();

  // One round, for the loop and for tests: the upkeep when it is due (or `force_upkeep`), then
  // one claimed batch per destination whose breaker lets calls through. Returns the rows
  // handed to destinations.
  boost::asio::awaitable<std::size_t> run_once(bool force_upkeep = false);

  // Times the breaker of `destination` has opened (0 for an unknown name).
  std::uint64_t breaker_openings(std::string_view destination) const;

 private:
  struct Lane;
  boost::asio::awaitable<std::size_t> run_lane(Lane& lane);
  boost::asio::awaitable<void> upkeep();
  boost::asio::awaitable<void> loop();
  Timestamp now() const;

  Store& store_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  DispatcherOptions options_;
  metrics::Registry* metrics_;
  Clock clock_;
  std::chrono::steady_clock::time_point next_upkeep_{};
  metrics::CounterFamily* deliveries_ = nullptr;
  metrics::Gauge* pending_ = nullptr;
  metrics::Gauge* oldest_age_ = nullptr;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{true};
};

}  // namespace kit::outbox
