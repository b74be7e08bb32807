#include "kit/db/pg/connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/db/errors.hpp"
#include "kit/db/pg/detail/conninfo.hpp"
#include "kit/db/pg/detail/socket_wait.hpp"
#include "kit/db/pg/detail/wire.hpp"
#include "kit/log/log.hpp"

namespace kit::db::pg {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

using detail::error_fields;
using detail::ErrorFields;
using detail::is_connection_failure;
using detail::ParamArrays;

namespace {

// Asio's epoll reactor is edge-triggered and async_wait does not try the operation first, so a
// wait started while data is already queued (libpq does not always drain the socket) could
// sleep forever. We poll(2) before every wait; with a multi-threaded executor another thread's
// epoll_wait may still swallow the edge between that check and the wait, so waits also wake up
// at this interval to look again. It costs one timer per wait, and only slow queries tick.
constexpr auto kRecheckInterval = std::chrono::milliseconds{200};

void on_notice(void* arg, const char* message) {
  const auto* endpoint = static_cast<const std::string*>(arg);
  if (kit::log::enabled(kit::log::Level::debug)) {
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    kit::log::debug("db", "db_notice", {{"endpoint", *endpoint}, {"message", text}});
  }
}

// PQconnectStart resolves host names with a blocking getaddrinfo(). Resolve them here with Asio
// (its resolver works off the I/O thread) and hand libpq numeric addresses via hostaddr; host
// stays set for TLS verification and .pgpass.
awaitable<void> resolve_hosts(asio::any_io_executor executor, detail::ConnInfo& info,
                              Clock::time_point deadline) {
  if (!detail::find_param(info, "hostaddr").empty()) co_return;
  const std::string hosts{detail::find_param(info, "host")};
  if (hosts.empty()) co_return;  // unix socket in the default directory
  std::vector<std::string> addresses;
  bool any_name = false;
  std::size_t start = 0;
  while (start <= hosts.size()) {
    auto comma = hosts.find(',', start);
    if (comma == std::string::npos) comma = hosts.size();
    std::string host = hosts.substr(start, comma - start);
    start = comma + 1;
    boost::system::error_code ec;
    if (host.empty() || host.front() == '/' || host.front() == '@') {
      addresses.emplace_back();  // unix socket: nothing to resolve
      continue;
    }
    auto literal = asio::ip::make_address(host, ec);
    if (!ec) {
      addresses.push_back(literal.to_string());
      continue;
    }
    any_name = true;
    auto resolver = std::make_shared<asio::ip::tcp::resolver>(executor);
    asio::steady_timer guard(executor, deadline);
    guard.async_wait([weak = std::weak_ptr(resolver)](const boost::system::error_code& e) {
      if (e) return;
      if (auto r = weak.lock()) r->cancel();
    });
    auto results = co_await resolver->async_resolve(host, std::string(),
                                                    asio::redirect_error(use_awaitable, ec));
    guard.cancel();
    if (ec || results.empty()) {
      throw UnavailableError("cannot resolve database host " + host + ": " +
                             (ec ? ec.message() : std::string("no address")));
    }
    addresses.push_back(results.begin()->endpoint().address().to_string());
  }
  if (!any_name) co_return;
  std::string joined;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i) joined += ',';
    joined += addresses[i];
  }
  detail::set_param(info, "hostaddr", joined);
}

}  // namespace

Connection::Connection(asio::any_io_executor executor, pg_conn* conn, std::string endpoint,
                       std::vector<std::string> secrets)
    : executor_(std::move(executor)),
      conn_(conn),
      timer_(executor_),
      endpoint_(std::move(endpoint)),
      secrets_(std::move(secrets)) {}

Connection::~Connection() {
  pipeline_abandon();
  close();
}

awaitable<std::unique_ptr<Connection>> Connection::connect(asio::any_io_executor executor,
                                                           ConnectOptions options) {
  detail::ConnInfo info = detail::parse_conninfo(options.conninfo);
  const auto deadline = Clock::now() + options.connect_timeout;
  co_await resolve_hosts(executor, info, deadline);
  if (!options.application_name.empty()) {
    detail::set_param(info, "application_name", options.application_name);
  }
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [k, v] : info.params) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* raw = PQconnectStartParams(keywords.data(), values.data(), 0);
  if (!raw) throw UnavailableError("cannot allocate a libpq connection");
  std::unique_ptr<Connection> conn(
      new Connection(executor, raw, std::move(info.endpoint), std::move(info.secrets)));
  conn->deadline_ = deadline;
  co_await conn->handshake(options);
  co_return conn;
}

awaitable<void> Connection::handshake(const ConnectOptions& options) {
  if (PQstatus(conn_) == CONNECTION_BAD) fail_lost("connect failed: " + libpq_error());
  // libpq may open a new socket on any PQconnectPoll call (another host or address, SSL/GSS
  // fallback), possibly with the same descriptor number, so the descriptor is re-registered
  // with the reactor before every wait.
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) fail_lost("connect failed: " + libpq_error());
    attach_socket();
    co_await wait(status == PGRES_POLLING_READING, status == PGRES_POLLING_WRITING);
    status = PQconnectPoll(conn_);
  }
  attach_socket();
  if (PQsetnonblocking(conn_, 1) != 0)
    fail_lost("cannot switch to non-blocking mode: " + libpq_error());
  PQsetNoticeProcessor(conn_, &on_notice, &endpoint_);
  // Every session speaks UTC so timestamptz text is always "…+00" (see timestamp.hpp).
  co_await exec("SET statement_timeout = " + std::to_string(options.statement_timeout.count()) +
                    "; SET TimeZone = 'UTC'",
                deadline_);
  connected_ = true;
}

void Connection::attach_socket() {
  if (socket_) {
    socket_->release();  // libpq owns the descriptor: never let Asio close it
    socket_.reset();
  }
  const int fd = PQsocket(conn_);
  if (fd < 0) fail_lost("connection has no socket");
  try {
    socket_.emplace(executor_, fd);
  } catch (const boost::system::system_error& e) {
    fail_lost(std::string("cannot watch the socket: ") + e.what());
  }
}

void Connection::begin(Deadline deadline) {
  if (pipeline_) throw std::logic_error("one-at-a-time statement in pipeline mode");
  request_sent_ = false;
  deadline_ = deadline;
  if (broken()) throw UnavailableError("connection to " + endpoint_ + " is closed");
}

awaitable<bool> Connection::wait(bool read, bool write) {
  for (;;) {
    pollfd pfd{socket_->native_handle(),
               static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0)), 0};
    if (::poll(&pfd, 1, 0) > 0) {
      if (read && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) co_return true;
      if (write && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) co_return false;
    }
    const auto now = Clock::now();
    if (deadline_ && now >= *deadline_) {
      fail_lost("no answer from the database before the deadline");
    }
    auto expiry = now + kRecheckInterval;
    if (deadline_ && *deadline_ < expiry) expiry = *deadline_;
    timer_.expires_at(expiry);
    boost::system::error_code ec;
    auto ready = co_await detail::async_wait_socket(*socket_, timer_, read, write,
                                                    asio::redirect_error(use_awaitable, ec));
    if (ec) fail_lost("waiting for the socket failed: " + ec.message());
    if (ready == detail::Readiness::readable) co_return true;
    if (ready == detail::Readiness::writable) co_return false;
    // The timer expired: loop to check the deadline and the socket again.
  }
}

awaitable<void> Connection::flush() {
  for (;;) {
    const int pending = PQflush(conn_);
    if (pending == 0) co_return;
    if (pending < 0) fail_lost("sending failed: " + libpq_error());
    // libpq's documented rule: wait for either direction; input must be consumed while the
    // server may be blocked writing to us, or both sides could stall.
    if (co_await wait(true, true)) {
      if (!PQconsumeInput(conn_)) fail_lost("reading failed: " + libpq_error());
    }
  }
}

awaitable<std::vector<Result>> Connection::read_results() {
  std::vector<Result> results;
  std::optional<ErrorFields> error;
  for (;;) {
    while (PQisBusy(conn_)) {
      co_await wait(true, false);
      if (!PQconsumeInput(conn_)) fail_lost("reading failed: " + libpq_error());
    }
    PGresult* raw = PQgetResult(conn_);
    if (!raw) break;
    Result result(raw);
    switch (PQresultStatus(raw)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY:
        results.push_back(std::move(result));
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        mark_broken("COPY is not supported");
        throw QueryError("", "COPY is not supported by this driver");
      default:
        // Keep the first error and drain the rest, so the connection is ready afterwards.
        if (!error) error = error_fields(raw);
        break;
    }
  }
  if (error) {
    if (PQstatus(conn_) != CONNECTION_OK || is_connection_failure(error->sqlstate)) {
      fail_lost("connection lost (" + error->sqlstate + "): " + error->message);
    }
    std::rethrow_exception(detail::statement_error(*error, secrets_));
  }
  co_return results;
}

awaitable<Result> Connection::execute(const Statement& statement, const Params& params,
                                      Deadline deadline) {
  begin(deadline);
  if (!prepared_.contains(statement.name)) {
    if (!PQsendPrepare(conn_, statement.name.c_str(), statement.sql.c_str(), 0, nullptr)) {
      fail_send();
    }
    co_await flush();
    co_await read_results();
    prepared_.insert(statement.name);
  }
  const ParamArrays p(params);
  if (!PQsendQueryPrepared(conn_, statement.name.c_str(), p.count(), p.data(), nullptr, nullptr,
                           0)) {
    fail_send();
  }
  request_sent_ = true;
  co_await flush();
  auto results = co_await read_results();
  co_return results.empty() ? Result{} : std::move(results.back());
}

awaitable<Result> Connection::query(std::string_view sql, const Params& params, Deadline deadline) {
  begin(deadline);
  const std::string text(sql);
  const ParamArrays p(params);
  if (!PQsendQueryParams(conn_, text.c_str(), p.count(), nullptr, p.data(), nullptr, nullptr, 0)) {
    fail_send();
  }
  request_sent_ = true;
  co_await flush();
  auto results = co_await read_results();
  co_return results.empty() ? Result{} : std::move(results.back());
}

awaitable<void> Connection::exec(std::string_view sql, Deadline deadline) {
  begin(deadline);
  const std::string text(sql);
  if (!PQsendQuery(conn_, text.c_str())) fail_send();
  request_sent_ = true;
  co_await flush();
  co_await read_results();
}

bool Connection::check_alive() noexcept {
  if (broken()) return false;
  if (PQstatus(conn_) != CONNECTION_OK || !PQconsumeInput(conn_) ||
      PQstatus(conn_) != CONNECTION_OK) {
    mark_broken("server closed the connection while it was idle");
    return false;
  }
  // A terminated backend sends its FATAL message (consumed above as a notice) and closes; the
  // EOF may still be unread, so look for the peer's shutdown directly.
  pollfd pfd{PQsocket(conn_), POLLRDHUP, 0};
  if (::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
    mark_broken("server closed the connection while it was idle");
    return false;
  }
  return true;
}

bool Connection::in_transaction() const noexcept {
  return conn_ && PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

int Connection::backend_pid() const noexcept {
  return conn_ ? PQbackendPID(conn_) : 0;
}

void Connection::close() noexcept {
  if (socket_) {
    try {
      socket_->release();
    } catch (...) {  // deregistering cannot fail in practice; the fd is closed below anyway
    }
    socket_.reset();
  }
  if (conn_) {
    // Non-blocking mode: PQfinish queues the Terminate message without waiting.
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

std::string Connection::libpq_error() const {
  const char* message = conn_ ? PQerrorMessage(conn_) : nullptr;
  return detail::redact(message && *message ? message : "connection closed", secrets_);
}

void Connection::mark_broken(std::string_view reason) noexcept {
  if (broken_) return;
  broken_ = true;
  if (!connected_) return;  // a failed connection attempt: the pool logs those
  kit::log::warning(
      "db", "db_connection_broken",
      {{"endpoint", endpoint_}, {"reason", detail::redact(std::string(reason), secrets_)}});
}

void Connection::fail_lost(std::string reason) {
  reason = detail::redact(std::move(reason), secrets_);
  mark_broken(reason);
  close();
  throw UnavailableError(endpoint_ + ": " + reason);
}

void Connection::fail_send() {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) fail_lost("sending failed: " + libpq_error());
  throw QueryError("", libpq_error());
}

}  // namespace kit::db::pg
