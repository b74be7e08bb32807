#pragma once
// One PostgreSQL connection driven by libpq's non-blocking API on an Asio executor
// (docs/operations.md "Database"): PQconnectStart/PQconnectPoll to connect, PQsend*/PQflush to
// send, PQconsumeInput/PQisBusy/PQgetResult to read, waiting for the socket with
// stream_descriptor::async_wait. No libpq call made here can block the thread (host names are
// resolved by Asio's resolver first, because PQconnectStart would call getaddrinfo()
// synchronously).
//
// Threading: a Connection belongs to the executor given to connect(); call its coroutines only
// from coroutines running on that executor, one operation at a time. The Pool does that for you.
//
// Errors: UniqueViolation (23505), UnavailableError when the server is unreachable or the
// connection is lost (class 08, 57P01-57P03, socket errors, deadline exceeded; the connection is
// then broken()), QueryError(sqlstate, message) for anything else. Messages never contain the
// connection string or the password.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "kit/async/deadline.hpp"
#include "kit/db/errors.hpp"
#include "kit/db/pg/result.hpp"
#include "kit/db/pg/statement.hpp"

struct pg_conn;

namespace kit::db::pg {

struct ConnectOptions {
  std::string conninfo;  // libpq keyword/value string or postgresql:// URI
  std::string application_name = "user-service";
  std::chrono::milliseconds statement_timeout{0};   // server-side, per statement; 0 = none
  std::chrono::milliseconds connect_timeout{5000};  // this attempt: DNS, TCP, TLS, auth, set-up
};

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

// A pipelined read waited behind other statements on its connection for longer than its queue
// timeout: to the caller this is the pool being exhausted (503), and it is not retried.
struct QueueTimeout : UnavailableError {
  using UnavailableError::UnavailableError;
};

namespace detail {
struct PipelineState;
struct PipelineSlot;
}  // namespace detail

class Connection {
 public:
  // Connects and sets statement_timeout, TimeZone=UTC and application_name. Throws
  // UnavailableError when the server cannot be reached in time, std::invalid_argument for a
  // malformed connection string.
  static boost::asio::awaitable<std::unique_ptr<Connection>> connect(
      boost::asio::any_io_executor executor, ConnectOptions options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs a prepared statement, preparing it first on this connection if needed.
  boost::asio::awaitable<Result> execute(const Statement& statement, const Params& params,
                                         Deadline deadline = {});
  // Runs one statement with parameters without preparing it (the unnamed statement).
  boost::asio::awaitable<Result> query(std::string_view sql, const Params& params = {},
                                       Deadline deadline = {});
  // Runs a script of one or more statements (simple protocol, no parameters), e.g. a migration.
  boost::asio::awaitable<void> exec(std::string_view sql, Deadline deadline = {});

  // A failed connection is never used again; the pool discards it.
  bool broken() const noexcept { return broken_ || !conn_; }
  // Non-blocking check that the server has not gone away while the connection sat idle
  // (e.g. pg_terminate_backend, a server restart): reads what is pending, looks for EOF.
  bool check_alive() noexcept;
  // Whether the connection is inside a transaction block (the pool refuses to reuse those).
  bool in_transaction() const noexcept;
  // Whether the last execute()/query()/exec() handed its statement to the server. When false,
  // a failure happened before sending and repeating the operation is always safe.
  bool request_sent() const noexcept { return request_sent_; }
  int backend_pid() const noexcept;
  const std::string& endpoint() const noexcept { return endpoint_; }
  const boost::asio::any_io_executor& get_executor() const noexcept { return executor_; }
  void close() noexcept;

  // ---- pipeline mode (connection_pipeline.cpp) ----
  // Many coroutines share the connection for reads: every statement submitted during one turn
  // of the event loop reaches the server in one write, ends in one Sync, and the results come
  // back in one read. This is what lets a few connections carry thousands of reads per second
  // without a server process waking up per statement (bench/).
  //
  // Enters libpq's pipeline mode (precondition: the connection is idle, not in a transaction).
  // Until leave_pipeline(), only submit() may be used.
  void enter_pipeline();
  // Back to one statement at a time; precondition: pipeline_drained().
  void leave_pipeline();
  bool in_pipeline() const noexcept { return pipeline_ != nullptr; }
  // No result is outstanding: the connection can leave pipeline mode.
  bool pipeline_drained() const noexcept;
  // Statements sent and not yet answered (including abandoned ones): how busy the connection
  // is, for choosing among several.
  std::size_t pipeline_load() const noexcept;
  // Called (posted on the executor) whenever the pipeline becomes drained.
  void on_pipeline_drained(std::function<void()> fn);
  // Runs a statement in the pipeline. Only reads (Statement::read_only) share a batch: a batch
  // is one implicit transaction, and when one of its statements fails the server skips the
  // rest until the Sync; skipped reads are sent again in the next batch, which is harmless for
  // reads only. A write is sent at once in a batch of its own. A statement still queued behind
  // others after `queue_timeout` throws QueueTimeout (its result is discarded when it
  // arrives); when the statement at the head of the pipeline gets no answer within
  // `run_timeout` (0 = no limit) the connection is declared lost and every statement in it
  // throws UnavailableError. Once `request_deadline` passes, the caller stops waiting
  // (DeadlineExceeded) wherever the statement is; its result is discarded when it arrives.
  boost::asio::awaitable<Result> submit(const Statement& statement, const Params& params,
                                        std::chrono::milliseconds queue_timeout,
                                        std::chrono::milliseconds run_timeout,
                                        kit::async::Deadline request_deadline = {});

 private:
  Connection(boost::asio::any_io_executor executor, pg_conn* conn, std::string endpoint,
             std::vector<std::string> secrets);

  boost::asio::awaitable<void> handshake(const ConnectOptions& options);
  void begin(Deadline deadline);
  void attach_socket();
  boost::asio::awaitable<bool> wait(bool read, bool write);  // true: readable
  boost::asio::awaitable<void> flush();
  boost::asio::awaitable<std::vector<Result>> read_results();
  // Marks the connection broken, closes it and throws UnavailableError(reason).
  [[noreturn]] void fail_lost(std::string reason);
  [[noreturn]] void fail_send();
  void mark_broken(std::string_view reason) noexcept;
  std::string libpq_error() const;

  friend struct detail::PipelineState;
  void pipeline_send(detail::PipelineState& state, std::shared_ptr<detail::PipelineSlot> slot);
  void pipeline_flush(detail::PipelineState& state);
  void pipeline_fail(std::string reason) noexcept;
  bool pipeline_dispatch(detail::PipelineState& state);
  void pipeline_handle(detail::PipelineState& state, pg_result* raw);
  // Fails whatever is still outstanding (the connection is being destroyed).
  void pipeline_abandon() noexcept;

  boost::asio::any_io_executor executor_;
  pg_conn* conn_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> socket_;
  boost::asio::steady_timer timer_;
  std::string endpoint_;
  std::vector<std::string> secrets_;
  std::unordered_set<std::string> prepared_;
  Deadline deadline_;
  bool broken_ = false;
  bool connected_ = false;  // the handshake completed (failed attempts are not logged here)
  bool request_sent_ = false;
  std::shared_ptr<detail::PipelineState> pipeline_;  // set while in pipeline mode
};

}  // namespace kit::db::pg
