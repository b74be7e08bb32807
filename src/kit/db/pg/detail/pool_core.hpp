#pragma once
// The pool's state machine. Every member function runs on executor_ (the Pool's public methods
// hop there with co_spawn), so the state needs no lock; only the published Stats are atomics.
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "kit/db/errors.hpp"
#include "kit/db/pg/connection.hpp"
#include "kit/db/pg/detail/backoff.hpp"
#include "kit/db/pg/pool.hpp"

namespace kit::db::pg::detail {

// No connection became free within acquire_timeout. Not retried: the caller already waited.
struct AcquireTimeout : UnavailableError {
  using UnavailableError::UnavailableError;
};

class PoolCore;

// A leased connection; returns it to the pool when destroyed.
class Lease {
 public:
  Lease() = default;
  Lease(std::shared_ptr<PoolCore> core, std::unique_ptr<Connection> conn)
      : core_(std::move(core)), conn_(std::move(conn)) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&& other) noexcept {
    reset();
    core_ = std::move(other.core_);
    conn_ = std::move(other.conn_);
    return *this;
  }
  ~Lease() { reset(); }
  Connection& operator*() const { return *conn_; }
  explicit operator bool() const noexcept { return conn_ != nullptr; }
  // Takes the connection out of the lease: it stays counted as in use until given back with
  // PoolCore::release().
  std::unique_ptr<Connection> release() noexcept {
    core_.reset();
    return std::move(conn_);
  }
  Connection* operator->() const { return conn_.get(); }
  void reset() noexcept;

 private:
  std::shared_ptr<PoolCore> core_;
  std::unique_ptr<Connection> conn_;
};

class PoolCore : public std::enable_shared_from_this<PoolCore> {
 public:
  PoolCore(boost::asio::any_io_executor executor, PoolOptions options);
  ~PoolCore();

  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  const PoolOptions& options() const noexcept { return options_; }
  Stats stats() const noexcept;

  static boost::asio::awaitable<void> start(std::shared_ptr<PoolCore> self);
  // One statement on a connection of its own (PoolOptions::pipelining off).
  static boost::asio::awaitable<Result> query(std::shared_ptr<PoolCore> self, Statement statement,
                                              Params params, Retry retry,
                                              kit::async::Deadline deadline);
  // One statement in pipeline mode on a shared connection (connection_pipeline.cpp).
  static boost::asio::awaitable<Result> pipelined(std::shared_ptr<PoolCore> self,
                                                  const Statement& statement, const Params& params,
                                                  Retry retry, kit::async::Deadline deadline);
  static boost::asio::awaitable<void> ping(std::shared_ptr<PoolCore> self);
  static boost::asio::awaitable<void> with_connection(
      std::shared_ptr<PoolCore> self, std::function<boost::asio::awaitable<void>(Connection&)> fn);
  static boost::asio::awaitable<void> close(std::shared_ptr<PoolCore> self);

  void release(std::unique_ptr<Connection> conn) noexcept;

 private:
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    std::unique_ptr<Connection> conn;
    std::exception_ptr error;
    bool queued = true;
  };
  struct Idle {
    std::unique_ptr<Connection> conn;
    std::chrono::steady_clock::time_point since;
  };

  boost::asio::awaitable<Lease> acquire(std::chrono::milliseconds timeout);
  // How long a statement may wait for a connection or its turn: acquire_timeout, or less when
  // its request's deadline comes first.
  std::chrono::milliseconds wait_limit(const kit::async::Deadline& deadline) const noexcept;
  boost::asio::awaitable<std::unique_ptr<Connection>> open_connection(
      std::chrono::milliseconds timeout);
  static boost::asio::awaitable<void> connect_for_waiters(std::shared_ptr<PoolCore> self);
  static boost::asio::awaitable<void> reap(std::shared_ptr<PoolCore> self);
  void give(std::unique_ptr<Connection> conn);
  // The connection a pipelined statement should join right now, or null (then wait for one).
  Connection* pipe_for_statement();
  Connection* adopt_pipe(std::unique_ptr<Connection> conn);
  void pipe_drained(Connection* conn);
  void discard(std::unique_ptr<Connection> conn) noexcept;
  void fail_front_waiter(std::exception_ptr error);
  void spawn_connects();
  void schedule_reaper();
  void record_wait(std::chrono::steady_clock::duration waited);
  // Logs db_query_retry and waits out the backoff of `attempt` (the caller keeps the core alive).
  boost::asio::awaitable<void> pause_before_retry(const std::string& statement, int attempt,
                                                  const std::string& reason);
  bool should_retry(const std::exception_ptr& error, bool sent, Retry retry, int attempt,
                    std::chrono::steady_clock::time_point started, std::string& reason) const;
  ConnectOptions connect_options(std::chrono::milliseconds timeout) const;
  std::size_t capacity() const noexcept { return options_.size + options_.max_overflow; }
  void publish() noexcept;

  boost::asio::any_io_executor executor_;
  PoolOptions options_;
  std::string endpoint_;   // host:port/dbname, for logs
  std::deque<Idle> idle_;  // back = most recently used; front = idle the longest
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::vector<std::unique_ptr<Connection>> pipes_;  // in pipeline mode; counted in in_use_
  std::size_t open_ = 0;                            // includes connecting_
  std::size_t connecting_ = 0;
  std::size_t in_use_ = 0;
  bool closing_ = false;
  bool reaper_running_ = false;
  boost::asio::steady_timer reap_timer_;
  boost::asio::steady_timer drain_timer_;
  Backoff backoff_;

  // Published for stats() on other threads.
  std::atomic<std::size_t> stat_open_{0}, stat_connecting_{0}, stat_idle_{0}, stat_in_use_{0},
      stat_waiting_{0};
  std::atomic<std::uint64_t> stat_acquisitions_{0};
  std::atomic<std::uint64_t> stat_wait_ns_{0};
};

}  // namespace kit::db::pg::detail
