#pragma once
// One PostgreSQL connection driven by libpq's non-blocking API on an Asio executor (SPEC §5):
// PQconnectStart/PQconnectPoll to connect, PQsend*/PQflush to send, PQconsumeInput/PQisBusy/
// PQgetResult to read, waiting for the socket with stream_descriptor::async_wait. No libpq call
// made here can block the thread (host names are resolved by Asio's resolver first, because
// PQconnectStart would call getaddrinfo() synchronously).
//
// Threading: a Connection belongs to the executor given to connect(); call its coroutines only
// from coroutines running on that executor, one operation at a time. The Pool does that for you.
//
// Errors: UniqueViolation (23505), UnavailableError when the server is unreachable or the
// connection is lost (class 08, 57P01-57P03, socket errors, deadline exceeded; the connection is
// then broken()), QueryError(sqlstate, message) for anything else. Messages never contain the
// connection string or the password.
#include <chrono>
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
};

}  // namespace kit::db::pg
