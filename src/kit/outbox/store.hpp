#pragma once
// Where a Dispatcher finds the outbox's rows (docs/events.md "The outbox"). The service
// implements it for PostgreSQL and SQLite, over the table its migrations create; every method
// is a coroutine that never blocks the calling I/O thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/outbox/message.hpp"

namespace kit::outbox {

struct Stats {
  std::int64_t pending = 0;           // rows still to deliver, every destination
  std::optional<Timestamp> oldest{};  // created_at of the oldest of them
};

class Store {
 public:
  virtual ~Store() = default;

  // Up to `limit` rows of `destination` that are due at `now`: pending, next_attempt_at
  // reached, not leased, and with no earlier pending row of the same ordering key (order per
  // key). Each is leased until now + lease and its attempts counted. Any number of
  // dispatchers may claim at once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer): no
  // row is handed to two of them while its lease holds. Oldest first.
  virtual boost::asio::awaitable<std::vector<Claimed>> claim(std::string_view destination,
                                                             std::size_t limit, Timestamp now,
                                                             std::chrono::milliseconds lease) = 0;
  // The row was delivered. Nothing changes when `row`'s lease is no longer the row's.
  virtual boost::asio::awaitable<void> mark_delivered(const Claimed& row, Timestamp now) = 0;
  // Back to pending, due at `next_attempt`, the lease released and `error` kept.
  virtual boost::asio::awaitable<void> reschedule(const Claimed& row, Timestamp next_attempt,
                                                  std::string_view error) = 0;
  // Not attempted after all (its destination's breaker opened, or its lease is too short):
  // back to pending as before the claim, due at once, its attempt not counted, last_error kept.
  virtual boost::asio::awaitable<void> release(const Claimed& row) = 0;
  // Given up on: dead.
  virtual boost::asio::awaitable<void> mark_dead(const Claimed& row, Timestamp now,
                                                 std::string_view error) = 0;
  // Every pending row created before `created_before` and not leased at `now` becomes dead.
  // Returns how many per destination.
  virtual boost::asio::awaitable<std::vector<std::pair<std::string, std::int64_t>>> expire(
      Timestamp created_before, Timestamp now) = 0;
  virtual boost::asio::awaitable<Stats> stats() = 0;
  // Deletes up to `limit` delivered or dead rows finished before `finished_before`; returns
  // how many.
  virtual boost::asio::awaitable<std::int64_t> purge(Timestamp finished_before,
                                                     std::size_t limit) = 0;
};

}  // namespace kit::outbox
