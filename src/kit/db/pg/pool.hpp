#pragma once
// A PostgreSQL connection pool (docs/operations.md "PostgreSQL pool"): `size` persistent
// connections plus up to `max_overflow` opened under load and closed after `idle_timeout` idle;
// acquisition waits at most `acquire_timeout` (FIFO), then throws UnavailableError (→ 503 +
// Retry-After); broken connections are discarded and replaced on demand; transient failures are
// retried with exponential backoff and jitter when the operation is safe to repeat.
//
// Threading: thread-per-core. The pool is split into shards, one per executor given at
// construction (one per I/O thread; at most `size` shards), each with its share of `size` and
// `max_overflow` and its own connections. A coroutine running on a shard's executor uses that
// shard directly: no lock, no hop between threads. Coroutines on any other executor hop onto a
// shard with co_spawn and resume on their own executor afterwards. stats() may be called from
// any thread. No call ever blocks a thread on the database: every wait is an asynchronous
// socket wait on the shard's executor.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "kit/db/pg/connection.hpp"
#include "kit/db/pg/result.hpp"
#include "kit/db/pg/statement.hpp"
#include "kit/metrics/db_pool.hpp"

namespace kit::db::pg {

namespace detail {
class PoolCore;
}

struct PoolOptions {
  std::string conninfo;
  std::size_t size = 5;
  std::size_t max_overflow = 10;
  std::chrono::milliseconds acquire_timeout{5000};
  std::chrono::milliseconds connect_timeout{30000};   // how long start() waits for the server
  std::chrono::milliseconds statement_timeout{5000};  // 0 = none
  std::chrono::milliseconds idle_timeout{30000};      // overflow connections idle this long close
  std::chrono::milliseconds connect_attempt_timeout{5000};  // one connection attempt
  std::chrono::milliseconds close_timeout{10000};  // close() waits this long for leased ones
  std::chrono::milliseconds ping_timeout{1000};
  // Statements share connections in pipeline mode (Connection::submit): each statement joins
  // the least busy connection; one with `pipeline_spread` or more statements outstanding gets
  // company, so the next statement takes an idle connection, or opens an overflow one.
  // Off: every statement leases a connection of its own, as with_connection() always does.
  bool pipelining = true;
  std::size_t pipeline_spread = 8;
  std::string application_name = "user-service";
  // Retries of transient failures: attempts in total (1 = no retry), backoff, overall budget.
  int max_attempts = 4;
  std::chrono::milliseconds retry_initial_backoff{50};
  std::chrono::milliseconds retry_max_backoff{1000};
  std::chrono::milliseconds retry_budget{3000};
  // Called with each acquisition's wait (for a histogram); runs on the pool's executor.
  std::function<void(std::chrono::nanoseconds)> on_wait;
  // Reports db_pool_* (kit/metrics/db_pool.hpp) into this registry; null = no metrics. The
  // registry must outlive the pool.
  kit::metrics::Registry* metrics = nullptr;
};

// Whether the operation may run twice. Failures before the statement reached the server
// (acquisition, a connection found dead before sending) are retried either way.
enum class Retry {
  never,  // a write whose repetition could do harm if the first attempt committed
  safe,   // reads and idempotent writes
};

struct Stats {
  std::size_t open = 0;        // connected or connecting; never above size + max_overflow
  std::size_t connecting = 0;  // part of open
  std::size_t idle = 0;
  std::size_t in_use = 0;
  std::size_t waiting = 0;  // coroutines waiting for a connection
  std::uint64_t acquisitions = 0;
  double wait_seconds_total = 0;  // summed over all acquisitions
};

class Pool {
 public:
  Pool(boost::asio::any_io_executor executor, PoolOptions options);
  // One shard per executor (at most options.size shards; the rest share them round-robin).
  Pool(std::vector<boost::asio::any_io_executor> executors, PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits for the server (exponential backoff with jitter up to connect_timeout, logging
  // each attempt as database_connect_retry), then opens `size` connections. Throws
  // UnavailableError when the deadline passes.
  boost::asio::awaitable<void> start();

  // Runs a prepared statement on a pooled connection. Throws UniqueViolation, QueryError, or
  // UnavailableError (pool exhausted, server down, connection lost and not retryable).
  // `deadline` is the calling request's (kit::async::Deadline): no attempt begins after it, and
  // waits for a connection or a turn in a pipeline end at it (DeadlineExceeded). A statement the
  // server is running is not interrupted; a pipelined one's result is discarded when it comes.
  // A traced deadline (a sampled request's) records the statement as a child span.
  boost::asio::awaitable<Result> query(const Statement& statement, Params params,
                                       Retry retry = Retry::safe,
                                       kit::async::Deadline deadline = {});

  // SELECT 1 within ping_timeout (readiness probe). Throws UnavailableError on failure.
  boost::asio::awaitable<void> ping();

  // Runs `fn` with a leased connection, ON A SHARD'S EXECUTOR, and returns it afterwards (a
  // connection left broken or inside a transaction is discarded). For work that needs one
  // session: transactions, advisory locks, migrations. Not retried.
  boost::asio::awaitable<void> with_connection(
      std::function<boost::asio::awaitable<void>(Connection&)> fn);

  Stats stats() const noexcept;

  // Refuses new work, fails waiters, waits up to close_timeout for leased connections to come
  // back, and closes everything.
  boost::asio::awaitable<void> close();

  // The executor of the first shard (where start-up waits for the server).
  const boost::asio::any_io_executor& executor() const noexcept;
  const PoolOptions& options() const noexcept { return options_; }
  std::size_t shards() const noexcept { return cores_.size(); }

 private:
  // query() without its span: on the caller's shard, or hopping to one.
  boost::asio::awaitable<Result> run(const Statement& statement, Params params, Retry retry,
                                     kit::async::Deadline deadline);
  // The shard of the calling coroutine's executor, or null when it runs on none of them.
  const std::shared_ptr<detail::PoolCore>* local(
      const boost::asio::any_io_executor& current) const noexcept;
  const std::shared_ptr<detail::PoolCore>& any_shard() noexcept;

  PoolOptions options_;
  std::vector<std::shared_ptr<detail::PoolCore>> cores_;
  std::atomic<std::size_t> next_shard_{0};
  std::vector<kit::metrics::Registration> metrics_;  // after core_: unregistered first
};

}  // namespace kit::db::pg
