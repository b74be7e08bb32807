#include "kit/db/pg/detail/pool_core.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/db/pg/detail/conninfo.hpp"
#include "kit/log/log.hpp"

namespace kit::db::pg::detail {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kPing = "SELECT 1";  // a named constant: see connection.cpp
const Statement kPingStatement{"kit_pool_ping", "SELECT 1", true};

std::string reason_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const UnavailableError& e) {
    return e.internal_reason();
  } catch (const QueryError& e) {
    return "sqlstate " + e.sqlstate() + ": " + e.what();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

awaitable<void> sleep_for(const asio::any_io_executor& ex, milliseconds delay) {
  asio::steady_timer timer(ex, delay);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
}

// The server cancelled the statement (57014: statement_timeout, or an operator's
// pg_cancel_backend): the database is up but could not answer in time (locks, overload). The
// caller sees it as unavailable, 503 + Retry-After like an exhausted pool, not as a failed
// query (500 INTERNAL_ERROR). It is not retried: a replay would wait out the timeout again.
std::exception_ptr cancelled_as_unavailable(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const QueryError& e) {
    if (e.sqlstate() == "57014") {
      return std::make_exception_ptr(
          UnavailableError(std::string("statement cancelled (57014): ") + e.what()));
    }
  } catch (...) {
  }
  return error;
}

std::string safe_endpoint(const std::string& conninfo) {
  try {
    return parse_conninfo(conninfo).endpoint;
  } catch (const std::exception&) {
    return "(invalid connection string)";
  }
}

}  // namespace

void Lease::reset() noexcept {
  if (conn_) core_->release(std::move(conn_));
  core_.reset();
}

PoolCore::PoolCore(asio::any_io_executor executor, PoolOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      endpoint_(safe_endpoint(options_.conninfo)),
      reap_timer_(executor_),
      drain_timer_(executor_),
      backoff_(options_.retry_initial_backoff, options_.retry_max_backoff) {
  if (options_.size == 0) options_.size = 1;
}

PoolCore::~PoolCore() = default;

ConnectOptions PoolCore::connect_options(milliseconds timeout) const {
  return ConnectOptions{options_.conninfo, options_.application_name, options_.statement_timeout,
                        timeout};
}

Stats PoolCore::stats() const noexcept {
  Stats s;
  s.open = stat_open_.load(std::memory_order_relaxed);
  s.connecting = stat_connecting_.load(std::memory_order_relaxed);
  s.idle = stat_idle_.load(std::memory_order_relaxed);
  s.in_use = stat_in_use_.load(std::memory_order_relaxed);
  s.waiting = stat_waiting_.load(std::memory_order_relaxed);
  s.acquisitions = stat_acquisitions_.load(std::memory_order_relaxed);
  s.wait_seconds_total = static_cast<double>(stat_wait_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void PoolCore::publish() noexcept {
  stat_open_.store(open_, std::memory_order_relaxed);
  stat_connecting_.store(connecting_, std::memory_order_relaxed);
  stat_idle_.store(idle_.size(), std::memory_order_relaxed);
  stat_in_use_.store(in_use_, std::memory_order_relaxed);
  stat_waiting_.store(waiters_.size(), std::memory_order_relaxed);
}

void PoolCore::record_wait(Clock::duration waited) {
  const auto ns = duration_cast<std::chrono::nanoseconds>(waited);
  stat_acquisitions_.fetch_add(1, std::memory_order_relaxed);
  stat_wait_ns_.fetch_add(static_cast<std::uint64_t>(ns.count()), std::memory_order_relaxed);
  if (options_.on_wait) options_.on_wait(ns);
}

// ---- opening and closing connections ----

awaitable<std::unique_ptr<Connection>> PoolCore::open_connection(milliseconds timeout) {
  co_return co_await Connection::connect(executor_, connect_options(timeout));
}

awaitable<void> PoolCore::start(std::shared_ptr<PoolCore> self) {
  const auto started = Clock::now();
  const auto deadline = started + self->options_.connect_timeout;
  Backoff backoff(std::chrono::milliseconds{100}, std::chrono::milliseconds{5000});
  for (int attempt = 1;; ++attempt) {
    if (self->closing_) throw UnavailableError("pool is closed");
    std::exception_ptr error;
    ++self->open_;
    ++self->connecting_;
    self->publish();
    try {
      const auto left = duration_cast<milliseconds>(deadline - Clock::now());
      auto conn = co_await self->open_connection(
          std::clamp(left, milliseconds{1}, self->options_.connect_attempt_timeout));
      --self->connecting_;
      self->give(std::move(conn));
      break;
    } catch (const UnavailableError&) {
      error = std::current_exception();
    }
    --self->connecting_;
    --self->open_;
    self->publish();
    const std::string reason = reason_of(error);
    const auto now = Clock::now();
    if (now >= deadline) {
      kit::log::error("db", "database_connect_failed",
                      {{"endpoint", self->endpoint_}, {"attempts", attempt}, {"error", reason}});
      throw UnavailableError("database not reachable within " +
                             std::to_string(self->options_.connect_timeout.count()) +
                             " ms: " + reason);
    }
    const auto delay =
        std::min(backoff.delay(attempt), duration_cast<milliseconds>(deadline - now));
    kit::log::warning("db", "database_connect_retry",
                      {{"endpoint", self->endpoint_},
                       {"attempt", attempt},
                       {"delay_ms", delay.count()},
                       {"error", reason}});
    co_await sleep_for(self->executor_, delay);
  }
  // The server answers: open the rest of the persistent connections.
  while (self->open_ < self->options_.size && !self->closing_) {
    ++self->open_;
    ++self->connecting_;
    self->publish();
    std::unique_ptr<Connection> conn;
    std::exception_ptr error;
    try {
      conn = co_await self->open_connection(self->options_.connect_attempt_timeout);
    } catch (...) {
      error = std::current_exception();
    }
    --self->connecting_;
    if (error) {
      --self->open_;
      self->publish();
      std::rethrow_exception(error);
    }
    self->give(std::move(conn));
  }
  kit::log::info("db", "db_pool_started",
                 {{"endpoint", self->endpoint_},
                  {"size", self->options_.size},
                  {"max_overflow", self->options_.max_overflow},
                  {"duration_ms", duration_cast<milliseconds>(Clock::now() - started).count()}});
}

void PoolCore::spawn_connects() {
  while (!closing_ && connecting_ < waiters_.size() && open_ < capacity()) {
    ++open_;
    ++connecting_;
    asio::co_spawn(executor_, connect_for_waiters(shared_from_this()), asio::detached);
  }
  publish();
}

awaitable<void> PoolCore::connect_for_waiters(std::shared_ptr<PoolCore> self) {
  std::unique_ptr<Connection> conn;
  std::exception_ptr error;
  try {
    conn = co_await self->open_connection(
        std::min(self->options_.connect_attempt_timeout, self->options_.acquire_timeout));
  } catch (...) {
    error = std::current_exception();
  }
  --self->connecting_;
  if (conn && !self->closing_) {
    self->give(std::move(conn));
    co_return;
  }
  --self->open_;
  conn.reset();
  if (error) {
    kit::log::warning("db", "db_connect_failed",
                      {{"endpoint", self->endpoint_}, {"error", reason_of(error)}});
    // Fail fast while the server is down: the oldest waiter gets the error now instead of
    // waiting out its timeout, and the query's retry policy decides what to do with it.
    self->fail_front_waiter(error);
  }
  self->spawn_connects();
}

void PoolCore::discard(std::unique_ptr<Connection> conn) noexcept {
  conn.reset();  // closes it
  --open_;
}

// Hands an open, unused connection to the oldest waiter, or parks it.
void PoolCore::give(std::unique_ptr<Connection> conn) {
  if (closing_) {
    discard(std::move(conn));
    publish();
    return;
  }
  if (!waiters_.empty()) {
    auto waiter = std::move(waiters_.front());
    waiters_.pop_front();
    waiter->queued = false;
    waiter->conn = std::move(conn);
    ++in_use_;
    waiter->timer.cancel();
    publish();
    return;
  }
  idle_.push_back(Idle{std::move(conn), Clock::now()});
  publish();
  schedule_reaper();
}

void PoolCore::fail_front_waiter(std::exception_ptr error) {
  if (waiters_.empty()) return;
  auto waiter = std::move(waiters_.front());
  waiters_.pop_front();
  waiter->queued = false;
  waiter->error = std::move(error);
  waiter->timer.cancel();
  publish();
}

void PoolCore::release(std::unique_ptr<Connection> conn) noexcept {
  --in_use_;
  if (closing_ || conn->broken() || conn->in_transaction()) {
    discard(std::move(conn));
    if (closing_ && in_use_ == 0) drain_timer_.cancel();
    publish();
    spawn_connects();  // a waiter may now get a fresh connection in its place
    return;
  }
  give(std::move(conn));
}

// ---- acquisition ----

awaitable<Lease> PoolCore::acquire(milliseconds timeout) {
  if (closing_) throw UnavailableError("pool is closed");
  const auto started = Clock::now();
  // Waiters are served first (FIFO); while there are none, idle connections are free.
  while (waiters_.empty() && !idle_.empty()) {
    auto conn = std::move(idle_.back().conn);
    idle_.pop_back();
    if (!conn->check_alive()) {
      discard(std::move(conn));
      continue;
    }
    ++in_use_;
    publish();
    record_wait(Clock::now() - started);
    co_return Lease(shared_from_this(), std::move(conn));
  }
  auto waiter = std::make_shared<Waiter>(executor_);
  waiter->timer.expires_after(timeout);
  waiters_.push_back(waiter);
  spawn_connects();
  boost::system::error_code ec;
  co_await waiter->timer.async_wait(asio::redirect_error(use_awaitable, ec));
  if (waiter->queued) {
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), waiter));
    waiter->queued = false;
    publish();
  }
  record_wait(Clock::now() - started);
  if (waiter->conn) co_return Lease(shared_from_this(), std::move(waiter->conn));
  if (waiter->error) std::rethrow_exception(waiter->error);
  throw AcquireTimeout("no database connection free within " + std::to_string(timeout.count()) +
                       " ms");
}

// ---- operations ----

milliseconds PoolCore::wait_limit(const kit::async::Deadline& deadline) const noexcept {
  if (!deadline.bounded()) return options_.acquire_timeout;
  const auto left = std::chrono::ceil<milliseconds>(deadline.at() - Clock::now());
  return std::min(std::max(left, milliseconds{1}), options_.acquire_timeout);
}

bool PoolCore::should_retry(const std::exception_ptr& error, bool sent, Retry retry, int attempt,
                            Clock::time_point started, std::string& reason) const {
  bool transient = false;
  try {
    std::rethrow_exception(error);
  } catch (const AcquireTimeout&) {
    return false;
  } catch (const QueueTimeout&) {
    return false;  // waited its turn already, like AcquireTimeout
  } catch (const UnavailableError& e) {
    reason = e.internal_reason();
    transient = !closing_ && (!sent || retry == Retry::safe);
  } catch (const QueryError& e) {
    reason = "sqlstate " + e.sqlstate();
    // Serialization failure and deadlock: the transaction was rolled back, run it again.
    transient = retry == Retry::safe && (e.sqlstate() == "40001" || e.sqlstate() == "40P01");
  } catch (...) {
    return false;
  }
  return transient && attempt < options_.max_attempts &&
         Clock::now() - started < options_.retry_budget;
}

awaitable<Result> PoolCore::query(std::shared_ptr<PoolCore> self, Statement statement,
                                  Params params, Retry retry, kit::async::Deadline deadline) {
  const auto started = Clock::now();
  for (int attempt = 1;; ++attempt) {
    deadline.check();  // no attempt, first or again, after the request gave up
    std::exception_ptr error;
    bool sent = false;
    try {
      Lease lease = co_await self->acquire(self->wait_limit(deadline));
      Deadline silent_network;
      if (self->options_.statement_timeout.count() > 0) {
        // The server cancels at statement_timeout; this only catches a silent network.
        silent_network = Clock::now() + self->options_.statement_timeout + std::chrono::seconds{5};
      }
      try {
        co_return co_await lease->execute(statement, params, silent_network);
      } catch (...) {
        sent = lease->request_sent();
        error = std::current_exception();
      }
    } catch (...) {
      error = std::current_exception();
    }
    // The wait ended at the request's deadline (a shorter acquisition or queue timeout): the
    // request is answered already; say so rather than blame the pool.
    if (deadline.passed()) throw kit::async::DeadlineExceeded();
    std::string reason;
    if (!self->should_retry(error, sent, retry, attempt, started, reason)) {
      std::rethrow_exception(cancelled_as_unavailable(error));
    }
    co_await self->pause_before_retry(statement.name, attempt, reason);
  }
}

awaitable<void> PoolCore::pause_before_retry(const std::string& statement, int attempt,
                                             const std::string& reason) {
  const auto delay = backoff_.delay(attempt);
  kit::log::warning("db", "db_query_retry",
                    {{"statement", statement},
                     {"attempt", attempt},
                     {"delay_ms", delay.count()},
                     {"error", reason}});
  co_await sleep_for(executor_, delay);
}

// ---- pipeline mode ----

Connection* PoolCore::pipe_for_statement() {
  if (closing_) throw UnavailableError("pool is closed");
  // Someone waits for a connection of its own (with_connection): join no pipeline, so that
  // pipelines drain and one of them is handed over (FIFO, as without pipelining).
  if (!waiters_.empty()) return nullptr;
  Connection* best = nullptr;
  std::size_t best_load = 0;
  for (const auto& conn : pipes_) {
    if (conn->broken()) continue;
    const std::size_t load = conn->pipeline_load();
    if (!best || load < best_load) {
      best = conn.get();
      best_load = load;
    }
  }
  if (best && best_load < options_.pipeline_spread) {
    record_wait(Clock::duration::zero());
    return best;
  }
  while (!idle_.empty()) {
    Idle idle = std::move(idle_.back());
    idle_.pop_back();
    if (!idle.conn->check_alive()) {
      discard(std::move(idle.conn));
      continue;
    }
    ++in_use_;
    record_wait(Clock::duration::zero());
    return adopt_pipe(std::move(idle.conn));
  }
  if (!best) return nullptr;
  // Every pipeline is deep: open an overflow connection for the statements to come.
  if (connecting_ == 0 && open_ < capacity()) {
    ++open_;
    ++connecting_;
    publish();
    asio::co_spawn(executor_, connect_for_waiters(shared_from_this()), asio::detached);
  }
  record_wait(Clock::duration::zero());
  return best;
}

Connection* PoolCore::adopt_pipe(std::unique_ptr<Connection> conn) {
  Connection* raw = conn.get();
  try {
    conn->enter_pipeline();
  } catch (...) {
    --in_use_;
    discard(std::move(conn));
    publish();
    throw;
  }
  conn->on_pipeline_drained([weak = weak_from_this(), raw] {
    if (auto self = weak.lock()) self->pipe_drained(raw);
  });
  pipes_.push_back(std::move(conn));
  publish();
  return raw;
}

// A pipeline with nothing outstanding goes back to the idle list (or to a waiter), so that
// with_connection(), the reaper and the idle/in_use gauges see it as any other connection.
void PoolCore::pipe_drained(Connection* conn) {
  const auto it =
      std::find_if(pipes_.begin(), pipes_.end(), [conn](const auto& p) { return p.get() == conn; });
  if (it == pipes_.end() || !(*it)->pipeline_drained()) return;
  std::unique_ptr<Connection> owned = std::move(*it);
  pipes_.erase(it);
  owned->leave_pipeline();
  release(std::move(owned));
}

awaitable<Result> PoolCore::pipelined(std::shared_ptr<PoolCore> self, const Statement& statement,
                                      const Params& params, Retry retry,
                                      kit::async::Deadline deadline) {
  const auto started = Clock::now();
  const auto run_timeout = self->options_.statement_timeout.count() > 0
                               // The server cancels at statement_timeout; this only catches a
                               // silent network.
                               ? self->options_.statement_timeout + std::chrono::seconds{5}
                               : milliseconds{0};
  for (int attempt = 1;; ++attempt) {
    deadline.check();  // no attempt, first or again, after the request gave up
    std::exception_ptr error;
    try {
      Connection* conn = self->pipe_for_statement();
      if (!conn) {
        Lease lease = co_await self->acquire(self->wait_limit(deadline));
        conn = self->adopt_pipe(lease.release());
      }
      co_return co_await conn->submit(statement, params, self->wait_limit(deadline), run_timeout,
                                      deadline);
    } catch (...) {
      error = std::current_exception();
    }
    if (deadline.passed()) throw kit::async::DeadlineExceeded();  // as in query()
    std::string reason;
    // Whether a failed statement reached the server cannot be told in pipeline mode: assume it
    // did (only Retry::safe statements are sent again after a lost connection).
    if (!self->should_retry(error, true, retry, attempt, started, reason)) {
      std::rethrow_exception(cancelled_as_unavailable(error));
    }
    co_await self->pause_before_retry(statement.name, attempt, reason);
  }
}

awaitable<void> PoolCore::ping(std::shared_ptr<PoolCore> self) {
  if (self->options_.pipelining) {
    // Through the pipeline like every query: while reads keep every connection busy, a ping
    // waiting for a connection of its own would time out and turn readiness red under load.
    Connection* conn = self->pipe_for_statement();
    if (!conn) {
      Lease lease = co_await self->acquire(
          std::min(self->options_.acquire_timeout, self->options_.ping_timeout));
      conn = self->adopt_pipe(lease.release());
    }
    const Params none;
    co_await conn->submit(kPingStatement, none, self->options_.ping_timeout,
                          self->options_.ping_timeout);
    co_return;
  }
  const auto deadline = Clock::now() + self->options_.ping_timeout;
  Lease lease =
      co_await self->acquire(std::min(self->options_.acquire_timeout, self->options_.ping_timeout));
  co_await lease->query(kPing, {}, deadline);
}

awaitable<void> PoolCore::with_connection(std::shared_ptr<PoolCore> self,
                                          std::function<awaitable<void>(Connection&)> fn) {
  Lease lease = co_await self->acquire(self->options_.acquire_timeout);
  co_await fn(*lease);
}

// ---- idle overflow connections ----

void PoolCore::schedule_reaper() {
  if (reaper_running_ || closing_ || open_ <= options_.size || idle_.empty()) return;
  reaper_running_ = true;
  asio::co_spawn(executor_, reap(shared_from_this()), asio::detached);
}

awaitable<void> PoolCore::reap(std::shared_ptr<PoolCore> self) {
  while (!self->closing_) {
    const auto now = Clock::now();
    while (self->open_ > self->options_.size && !self->idle_.empty() &&
           self->idle_.front().since + self->options_.idle_timeout <= now) {
      auto conn = std::move(self->idle_.front().conn);
      self->idle_.pop_front();
      self->discard(std::move(conn));
      self->publish();
    }
    if (self->open_ <= self->options_.size || self->idle_.empty()) break;
    self->reap_timer_.expires_at(self->idle_.front().since + self->options_.idle_timeout);
    boost::system::error_code ec;
    co_await self->reap_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  self->reaper_running_ = false;
}

// ---- shutdown ----

awaitable<void> PoolCore::close(std::shared_ptr<PoolCore> self) {
  if (self->closing_) co_return;
  self->closing_ = true;
  while (!self->waiters_.empty()) {
    self->fail_front_waiter(std::make_exception_ptr(UnavailableError("pool is closing")));
  }
  self->reap_timer_.cancel();
  while (!self->idle_.empty()) {
    auto conn = std::move(self->idle_.back().conn);
    self->idle_.pop_back();
    self->discard(std::move(conn));
  }
  self->publish();
  if (self->in_use_ > 0) {
    self->drain_timer_.expires_after(self->options_.close_timeout);
    boost::system::error_code ec;
    co_await self->drain_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  if (self->in_use_ > 0) {
    kit::log::warning("db", "db_pool_close_timeout", {{"in_use", self->in_use_}});
  }
  kit::log::info("db", "db_pool_closed", {{"endpoint", self->endpoint_}});
}

}  // namespace kit::db::pg::detail
