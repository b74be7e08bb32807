#pragma once
// The embedded SQLite executor (docs/operations.md "SQLite": WAL, busy timeout, calls made off the
// I/O threads).
//
// Threading: every SQLite call runs on a worker thread, never on the caller's thread. One writer
// connection lives on a single-thread WorkerPool, so writes (and transactions) are serialized in
// this process; SQLite's busy timeout serializes them against other processes. A file database
// also has `readers` read-only connections on their own pool, so reads run concurrently with
// the writer (WAL). `:memory:` uses the writer connection for everything: each connection would
// be a separate in-memory database. Every coroutine resumes on the caller's executor.
//
// Each pool queues at most `max_queue` jobs; beyond that calls throw
// kit::errors::ServiceUnavailable (503) instead of queueing without bound.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/async/worker_pool.hpp"
#include "kit/db/spans.hpp"
#include "kit/db/sqlite/connection.hpp"
#include "kit/db/sqlite/value.hpp"
#include "kit/metrics/db_pool.hpp"

namespace kit::db::sqlite {

struct Options {
  std::string path;  // a file path (its parent folder is created) or ":memory:"
  std::chrono::milliseconds busy_timeout{5000};
  std::size_t readers = 2;       // read-only connections of a file database (0: all on the writer)
  std::size_t max_queue = 1024;  // per pool
  // Runs on every connection right after it is opened, on its worker thread (to register SQL
  // functions, for instance).
  std::function<void(Connection&)> on_connect;
  // Reports db_pool_* (kit/metrics/db_pool.hpp) into this registry; null = no metrics. The
  // registry must outlive the database.
  kit::metrics::Registry* metrics = nullptr;
};

// True for ":memory:" and "file::memory:…" URIs.
bool is_memory_path(std::string_view path) noexcept;

class Database {
 public:
  // Starts the worker threads; opens no connection yet (start() does). Calls made before
  // start() has finished throw kit::db::UnavailableError.
  explicit Database(Options options);
  // Opens the writer (creating the file and its parent folder, switching to WAL) and then the
  // readers, all on worker threads. Throws kit::db::UnavailableError when it cannot.
  boost::asio::awaitable<void> start();
  // Constructs and starts.
  static boost::asio::awaitable<std::unique_ptr<Database>> open(Options options);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  // Stops the workers (a job already running finishes) and closes the connections. Prefer
  // co_await close() first: it lets in-flight calls finish.
  ~Database();

  // `deadline` is the calling request's (kit::async::Deadline): a call still queued for its
  // worker when it passes is not run (DeadlineExceeded). A traced deadline (a sampled
  // request's) records the call as a child span named by its SQL's first keyword (docs/tracing.md
  // "Child spans").
  //
  // One read-only statement on a reader connection. A statement that writes fails (query_only).
  boost::asio::awaitable<Rows> query(std::string sql, std::vector<Value> params = {},
                                     kit::async::Deadline deadline = {});
  // One statement on the writer; returns the number of rows changed.
  boost::asio::awaitable<std::int64_t> execute(std::string sql, std::vector<Value> params = {},
                                               kit::async::Deadline deadline = {});
  // One writing statement on the writer that returns rows (INSERT/UPDATE/DELETE … RETURNING).
  boost::asio::awaitable<Rows> execute_returning(std::string sql, std::vector<Value> params = {},
                                                 kit::async::Deadline deadline = {});

  // Runs body(Connection&) synchronously on the writer's worker thread inside
  // BEGIN IMMEDIATE … COMMIT (taking the write lock first, so a read-then-write body cannot
  // hit the WAL upgrade deadlock); rolls back and rethrows if body throws. Returns body's result.
  // The body must not keep the Connection, and must not co_await (it is not a coroutine).
  // A traced deadline records it as one child span, TRANSACTION (docs/tracing.md).
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> transaction(
      F body, kit::async::Deadline deadline = {});

  // Readiness: SELECT 1 on a reader (or the writer). Throws like query().
  boost::asio::awaitable<void> ping();

  // Graceful shutdown: refuses new calls (UnavailableError), waits for the ones under way, then
  // closes every connection on the writer's thread (the last close checkpoints the WAL).
  boost::asio::awaitable<void> close();

  const std::string& path() const noexcept { return options_.path; }
  bool in_memory() const noexcept { return memory_; }
  std::size_t reader_count() const noexcept { return reader_count_; }

 private:
  // A call's child span: `operation` ("TRANSACTION"), or the operation of `sql`, under the
  // deadline's span.
  static kit::trace::ChildSpan span(const kit::async::Deadline& deadline, std::string operation);
  static kit::trace::ChildSpan statement_span(const kit::async::Deadline& deadline,
                                              std::string_view sql);

  // Counts a call as in flight for close(); throws UnavailableError once closed.
  class CallGuard {
   public:
    explicit CallGuard(Database& db);
    CallGuard(const CallGuard&) = delete;
    CallGuard& operator=(const CallGuard&) = delete;
    ~CallGuard();

   private:
    Database& db_;
  };

  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> on_writer(
      F fn, kit::async::Deadline deadline = {});
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> on_reader(
      F fn, kit::async::Deadline deadline = {});

  // Reader connections are leased: a reader pool thread takes a free one for one job.
  std::unique_ptr<Connection> take_reader();
  void give_back_reader(std::unique_ptr<Connection> connection);

  // db_pool_wait_seconds: how long a call queued for the worker thread owning its connection.
  std::chrono::steady_clock::time_point wait_start() const noexcept {
    return wait_ != nullptr ? std::chrono::steady_clock::now()
                            : std::chrono::steady_clock::time_point{};
  }
  void record_wait(std::chrono::steady_clock::time_point queued) const noexcept {
    if (wait_ != nullptr) {
      wait_->observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - queued).count());
    }
  }
  kit::metrics::DbPoolReading pool_reading() const noexcept;

  static void begin(Connection& c);
  static void commit(Connection& c);
  static void rollback_quietly(Connection& c) noexcept;

  Options options_;
  bool memory_;
  std::size_t reader_count_;
  // created → open (start()) → closed (close(), also from created); calls run only when open.
  enum class State { created, open, closed };
  std::atomic<State> state_{State::created};
  std::atomic<std::size_t> in_flight_{0};

  std::unique_ptr<Connection> writer_;  // used only on writer_pool_'s thread
  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<Connection>> free_readers_;

  kit::async::WorkerPool writer_pool_;
  std::unique_ptr<kit::async::WorkerPool> reader_pool_;  // null when reads use the writer

  kit::metrics::Histogram* wait_ = nullptr;
  std::vector<kit::metrics::Registration> metrics_;  // last: unregistered before the pools go
};

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Database::on_writer(
    F fn, kit::async::Deadline deadline) {
  CallGuard guard(*this);
  const auto queued = wait_start();
  co_return co_await writer_pool_.run(
      [this, &fn, queued]() {
        record_wait(queued);
        return fn(*writer_);
      },
      deadline);
}

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Database::on_reader(
    F fn, kit::async::Deadline deadline) {
  if (!reader_pool_) co_return co_await on_writer(std::move(fn), deadline);
  CallGuard guard(*this);
  const auto queued = wait_start();
  co_return co_await reader_pool_->run(
      [this, &fn, queued]() {
        record_wait(queued);
        struct Lease {
          Database& db;
          std::unique_ptr<Connection> connection;
          ~Lease() { db.give_back_reader(std::move(connection)); }
        } lease{*this, take_reader()};
        return fn(*lease.connection);
      },
      deadline);
}

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Database::transaction(
    F body, kit::async::Deadline deadline) {
  kit::trace::ChildSpan traced = span(deadline, "TRANSACTION");
  auto run = [&body](Connection& c) {
    begin(c);
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F&, Connection&>>) {
        body(c);
        commit(c);
      } else {
        auto result = body(c);
        commit(c);
        return result;
      }
    } catch (...) {
      rollback_quietly(c);
      throw;
    }
  };
  try {
    co_return co_await on_writer(std::move(run), deadline);
  } catch (const std::exception& e) {
    fail_span(traced, e);
    throw;
  }
}

}  // namespace kit::db::sqlite
