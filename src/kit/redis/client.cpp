#include "kit/redis/client.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "kit/log/log.hpp"
#include "kit/trace/child_span.hpp"

namespace kit::redis {

namespace asio = boost::asio;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

namespace detail {

namespace {

// One waiting coroutine: it sleeps on `timer` until its deadline; completing or failing it
// cancels the timer, which wakes it early.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool done = false;
  bool failed = false;
  std::string failure;
  Reply reply;

  void complete(Reply r) {
    if (done) return;
    reply = std::move(r);
    done = true;
    timer.cancel();
  }
  void fail(const std::string& why) {
    if (done) return;
    failed = true;
    failure = why;
    done = true;
    timer.cancel();
  }
};

// Runs `on_fire` when `deadline` passes, unless destroyed first.
class Watchdog {
 public:
  template <class F>
  Watchdog(const asio::any_io_executor& ex, Clock::time_point deadline, F on_fire)
      : timer_(ex), alive_(std::make_shared<bool>(true)) {
    timer_.expires_at(deadline);
    timer_.async_wait(
        [alive = alive_, fired = fired_, f = std::move(on_fire)](boost::system::error_code ec) {
          if (!ec && *alive) {
            *fired = true;
            f();
          }
        });
  }
  ~Watchdog() {
    *alive_ = false;
    timer_.cancel();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  bool fired() const noexcept { return *fired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> alive_;
  std::shared_ptr<bool> fired_ = std::make_shared<bool>(false);
};

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r->type == REDIS_REPLY_STRING   ? Reply::Type::string
                 : r->type == REDIS_REPLY_STATUS ? Reply::Type::status
                                                 : Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

// RESP encoding: an array header, then one bulk string per argument.
void append_array_header(std::size_t n, std::string& out) {
  out += '*';
  out += std::to_string(n);
  out += "\r\n";
}

void append_bulk(std::string_view arg, std::string& out) {
  out += '$';
  out += std::to_string(arg.size());
  out += "\r\n";
  out += arg;
  out += "\r\n";
}

// Appends the RESP encoding of `args` to `out`.
void format_command(const std::vector<std::string>& args, std::string& out) {
  append_array_header(args.size(), out);
  for (const auto& a : args) append_bulk(a, out);
}

struct ReaderDeleter {
  void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
};
using ReaderPtr = std::unique_ptr<redisReader, ReaderDeleter>;

// Takes the next complete reply from `reader`: nullopt when more bytes are needed; throws
// std::runtime_error on a protocol error.
std::optional<Reply> next_reply(redisReader* reader) {
  void* raw = nullptr;
  if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
    throw std::runtime_error("redis protocol error");
  }
  if (raw == nullptr) return std::nullopt;
  Reply reply = convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return reply;
}

}  // namespace

// One TCP connection with its reply parser and in-flight commands (answered in order).
struct Conn {
  explicit Conn(const asio::any_io_executor& ex) : socket(ex), reader(redisReaderCreate()) {}
  tcp::socket socket;
  ReaderPtr reader;
  std::string write_buf;
  bool writing = false;
  bool open = true;
  std::deque<std::shared_ptr<Waiter>> inflight;
};

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  ClientCore(asio::any_io_executor ex, ClientOptions options)
      : ex_(std::move(ex)), opt_(std::move(options)), backoff_(opt_.reconnect_initial_backoff) {}

  const asio::any_io_executor& executor() const noexcept { return ex_; }

  static asio::awaitable<Reply> command(std::shared_ptr<ClientCore> self,
                                        std::vector<std::string> args) {
    std::string resp;
    format_command(args, resp);
    co_return co_await send(std::move(self), resp);
  }

  // EVALSHA with the script's digest; on NOSCRIPT (a new or restarted server), SCRIPT LOAD and
  // the same command once more. The command is encoded once.
  static asio::awaitable<Reply> eval(std::shared_ptr<ClientCore> self, const Script& script,
                                     std::vector<std::string> keys, std::vector<std::string> args) {
    std::string resp;
    append_array_header(3 + keys.size() + args.size(), resp);
    append_bulk("EVALSHA", resp);
    append_bulk(script.sha1(), resp);
    append_bulk(std::to_string(keys.size()), resp);
    for (const auto& k : keys) append_bulk(k, resp);
    for (const auto& a : args) append_bulk(a, resp);
    try {
      co_return co_await send(self, resp);
    } catch (const ReplyError& e) {
      if (std::string_view(e.what()).rfind("NOSCRIPT", 0) != 0) throw;
    }
    std::string load;
    append_array_header(3, load);
    append_bulk("SCRIPT", load);
    append_bulk("LOAD", load);
    append_bulk(script.source(), load);
    co_await send(self, load);
    co_return co_await send(self, resp);
  }

 private:
  // Sends one RESP-encoded command and awaits its reply; `resp` must stay alive until then.
  static asio::awaitable<Reply> send(std::shared_ptr<ClientCore> self, std::string_view resp) {
    const auto deadline = Clock::now() + self->opt_.command_timeout;
    co_await self->ensure_connected(deadline);
    std::shared_ptr<Conn> conn = self->conn_;
    if (conn->inflight.size() >= self->opt_.max_pending) {
      throw UnavailableError("redis: too many commands in flight");
    }
    auto waiter = std::make_shared<Waiter>(self->ex_);
    waiter->timer.expires_at(deadline);
    conn->inflight.push_back(waiter);
    conn->write_buf += resp;
    self->start_writing(conn);
    if (!waiter->done) {
      boost::system::error_code ec;
      co_await waiter->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (!waiter->done) {
      // The server stopped answering: drop the connection so nothing queues behind it.
      self->timeouts_.fetch_add(1, std::memory_order_relaxed);
      self->drop(conn, "redis: command timed out");
    }
    if (waiter->failed) throw UnavailableError(waiter->failure);
    if (waiter->reply.type == Reply::Type::error) throw ReplyError(waiter->reply.str);
    co_return std::move(waiter->reply);
  }

 public:
  static asio::awaitable<void> close(std::shared_ptr<ClientCore> self) {
    self->closed_ = true;
    if (self->conn_) self->drop(self->conn_, "redis: client closed");
    self->wake_connect_waiters();
    co_return;
  }

  ClientStats stats() const noexcept {
    return ClientStats{.connects = connects_.load(std::memory_order_relaxed),
                       .connect_failures = connect_failures_.load(std::memory_order_relaxed),
                       .timeouts = timeouts_.load(std::memory_order_relaxed),
                       .connected = connected_.load(std::memory_order_relaxed)};
  }

 private:
  asio::awaitable<void> ensure_connected(Clock::time_point deadline) {
    for (;;) {
      if (closed_) throw UnavailableError("redis: client closed");
      if (conn_) co_return;
      if (connecting_) {
        auto waiter = std::make_shared<Waiter>(ex_);
        waiter->timer.expires_at(deadline);
        connect_waiters_.push_back(waiter);
        boost::system::error_code ec;
        co_await waiter->timer.async_wait(asio::redirect_error(use_awaitable, ec));
        if (!waiter->done) throw UnavailableError("redis: connect timed out");
        continue;
      }
      // Inside the backoff window a command fails at once: no request waits while Redis is down.
      if (Clock::now() < retry_at_) throw UnavailableError("redis: unavailable, reconnecting");
      co_await connect(deadline);
    }
  }

  asio::awaitable<void> connect(Clock::time_point deadline) {
    connecting_ = true;
    const auto attempt_deadline = std::min(deadline, Clock::now() + opt_.connect_timeout);
    auto conn = std::make_shared<Conn>(ex_);
    std::string error;
    const bool ok = co_await handshake(conn, attempt_deadline, error);
    connecting_ = false;
    if (ok && closed_) {
      conn->socket.close();
      wake_connect_waiters();
      throw UnavailableError("redis: client closed");
    }
    if (!ok) {
      connect_failures_.fetch_add(1, std::memory_order_relaxed);
      retry_at_ = Clock::now() + backoff_;
      backoff_ = std::min(backoff_ * 2, opt_.reconnect_max_backoff);
      if (!failing_) {
        failing_ = true;
        kit::log::warning("redis", "redis_connect_failed", {{"error", error}});
      }
      wake_connect_waiters();
      throw UnavailableError(error);
    }
    backoff_ = opt_.reconnect_initial_backoff;
    retry_at_ = {};
    conn_ = conn;
    connected_.store(true, std::memory_order_relaxed);
    const auto n = connects_.fetch_add(1, std::memory_order_relaxed);
    if (failing_ || n > 0) {
      kit::log::info("redis", "redis_connected", {{"db", opt_.url.db}});
    }
    failing_ = false;
    wake_connect_waiters();
    asio::co_spawn(ex_, read_loop(shared_from_this(), conn), asio::detached);
  }

  // TCP connect, AUTH, SELECT within `deadline`. Never throws; `error` never holds secrets.
  asio::awaitable<bool> handshake(std::shared_ptr<Conn> conn, Clock::time_point deadline,
                                  std::string& error) {
    tcp::resolver resolver(ex_);
    Watchdog watchdog(ex_, deadline, [conn, &resolver] {
      boost::system::error_code ignored;
      conn->socket.close(ignored);
      resolver.cancel();
    });
    boost::system::error_code ec;
    auto endpoints = co_await resolver.async_resolve(opt_.url.host, std::to_string(opt_.url.port),
                                                     asio::redirect_error(use_awaitable, ec));
    if (ec || watchdog.fired()) {
      error = watchdog.fired() ? "redis: connect timed out" : "redis: cannot resolve host";
      co_return false;
    }
    co_await asio::async_connect(conn->socket, endpoints, asio::redirect_error(use_awaitable, ec));
    if (ec || watchdog.fired()) {
      error =
          watchdog.fired() ? "redis: connect timed out" : "redis: connect failed: " + ec.message();
      co_return false;
    }
    conn->socket.set_option(tcp::no_delay(true), ec);

    std::string out;
    std::size_t expected = 0;
    if (!opt_.url.password.empty()) {
      std::vector<std::string> auth;
      auth.emplace_back("AUTH");
      if (!opt_.url.username.empty()) auth.push_back(opt_.url.username);
      auth.push_back(opt_.url.password);
      format_command(auth, out);
      ++expected;
    }
    if (opt_.url.db != 0) {
      std::vector<std::string> select;
      select.emplace_back("SELECT");
      select.push_back(std::to_string(opt_.url.db));
      format_command(select, out);
      ++expected;
    }
    if (expected == 0) co_return true;
    co_await asio::async_write(conn->socket, asio::buffer(out),
                               asio::redirect_error(use_awaitable, ec));
    if (ec || watchdog.fired()) {
      error = watchdog.fired() ? "redis: connect timed out" : "redis: connection lost";
      co_return false;
    }
    std::array<char, 4096> buf{};
    std::size_t index = 0;
    while (index < expected) {
      std::optional<Reply> reply;
      try {
        reply = next_reply(conn->reader.get());
      } catch (const std::exception&) {
        error = "redis: protocol error";
        co_return false;
      }
      if (reply) {
        if (reply->type == Reply::Type::error) {
          const bool is_auth = !opt_.url.password.empty() && index == 0;
          // The server's message says why (WRONGPASS, NOAUTH, invalid DB index) and never
          // echoes the password.
          error =
              std::string(is_auth ? "redis: authentication failed: " : "redis: SELECT failed: ") +
              reply->str.substr(0, 200);
          co_return false;
        }
        ++index;
        continue;
      }
      const std::size_t n = co_await conn->socket.async_read_some(
          asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
      if (ec || watchdog.fired()) {
        error = watchdog.fired() ? "redis: connect timed out" : "redis: connection lost";
        co_return false;
      }
      redisReaderFeed(conn->reader.get(), buf.data(), n);
    }
    co_return true;
  }

  void start_writing(const std::shared_ptr<Conn>& conn) {
    if (conn->writing || !conn->open) return;
    conn->writing = true;
    asio::co_spawn(ex_, write_loop(shared_from_this(), conn), asio::detached);
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<ClientCore> self,
                                          std::shared_ptr<Conn> conn) {
    std::string out;
    while (conn->open && !conn->write_buf.empty()) {
      out.clear();
      out.swap(conn->write_buf);
      boost::system::error_code ec;
      co_await asio::async_write(conn->socket, asio::buffer(out),
                                 asio::redirect_error(use_awaitable, ec));
      if (ec) {
        self->drop(conn, "redis: connection lost");
        break;
      }
    }
    conn->writing = false;
  }

  static asio::awaitable<void> read_loop(std::shared_ptr<ClientCore> self,
                                         std::shared_ptr<Conn> conn) {
    std::array<char, 16 * 1024> buf{};
    while (conn->open) {
      boost::system::error_code ec;
      const std::size_t n = co_await conn->socket.async_read_some(
          asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        self->drop(conn, "redis: connection lost");
        co_return;
      }
      if (redisReaderFeed(conn->reader.get(), buf.data(), n) != REDIS_OK ||
          conn->reader->len > self->opt_.max_reply_bytes) {
        self->drop(conn, "redis: reply too large or malformed");
        co_return;
      }
      for (;;) {
        std::optional<Reply> reply;
        try {
          reply = next_reply(conn->reader.get());
        } catch (const std::exception&) {
          self->drop(conn, "redis: protocol error");
          co_return;
        }
        if (!reply) break;
        if (conn->inflight.empty()) {
          self->drop(conn, "redis: unexpected reply");
          co_return;
        }
        auto waiter = std::move(conn->inflight.front());
        conn->inflight.pop_front();
        waiter->complete(std::move(*reply));
      }
    }
  }

  // Closes `conn` and fails its in-flight commands. The next command reconnects at once (a
  // refused connection then starts the backoff).
  void drop(const std::shared_ptr<Conn>& conn, const std::string& why) {
    if (!conn->open) return;
    conn->open = false;
    boost::system::error_code ignored;
    conn->socket.close(ignored);
    auto inflight = std::move(conn->inflight);
    conn->inflight.clear();
    for (auto& w : inflight) w->fail(why);
    if (conn_ == conn) {
      conn_.reset();
      connected_.store(false, std::memory_order_relaxed);
      if (!closed_) {
        failing_ = true;
        kit::log::warning("redis", "redis_connection_lost", {{"error", why}});
      }
    }
  }

  void wake_connect_waiters() {
    auto waiters = std::move(connect_waiters_);
    connect_waiters_.clear();
    for (auto& w : waiters) w->complete(Reply{});
  }

  asio::any_io_executor ex_;
  ClientOptions opt_;
  std::shared_ptr<Conn> conn_;
  bool connecting_ = false;
  bool closed_ = false;
  bool failing_ = false;
  std::vector<std::shared_ptr<Waiter>> connect_waiters_;
  Clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_;
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
  std::atomic<std::uint64_t> timeouts_{0};
  std::atomic<bool> connected_{false};
};

}  // namespace detail

Client::Client(asio::any_io_executor executor, ClientOptions options) {
  cores_.push_back(std::make_shared<detail::ClientCore>(std::move(executor), std::move(options)));
}

Client::Client(const std::vector<asio::any_io_executor>& executors, ClientOptions options) {
  if (executors.empty()) throw std::invalid_argument("redis::Client: no executor");
  cores_.reserve(executors.size());
  for (const auto& ex : executors)
    cores_.push_back(std::make_shared<detail::ClientCore>(ex, options));
}

Client::~Client() = default;

const std::shared_ptr<detail::ClientCore>& Client::core_for(const asio::any_io_executor& ex) const {
  for (const auto& core : cores_) {
    if (core->executor() == ex) return core;
  }
  return cores_.front();
}

namespace {

// Awaits `op`, bound to the connection living on `target`: directly when the caller runs there
// already; otherwise it hops onto `target` with co_spawn, which delivers the result through the
// caller's handler, i.e. back on the caller's executor. The core is kept alive by the shared_ptr
// in the operation's parameters.
asio::awaitable<Reply> on_executor(asio::any_io_executor target, asio::any_io_executor caller,
                                   asio::awaitable<Reply> op) {
  if (target == caller) co_return co_await std::move(op);
  co_return co_await asio::co_spawn(target, std::move(op), use_awaitable);
}

}  // namespace

// A caller on one of the connections' executors uses that connection; any other caller uses
// the first one.
namespace {

// A Redis call's child span (docs/tracing.md "Child spans"): the command's name only, never
// its keys or arguments.
kit::trace::ChildSpan redis_span(const kit::trace::Parent* parent, std::string_view command) {
  if (parent == nullptr) return {};
  std::string name(command);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  kit::trace::ChildSpan span(parent, name, kit::trace::SpanKind::client);
  span.attribute("db.system.name", "redis");
  span.attribute("db.operation.name", name);
  return span;
}

void fail_span(kit::trace::ChildSpan& span, const std::exception& e) {
  if (dynamic_cast<const ReplyError*>(&e) != nullptr) {
    span.fail("reply_error");
  } else if (dynamic_cast<const UnavailableError*>(&e) != nullptr) {
    span.fail("unavailable");
  } else {
    span.fail("_OTHER");
  }
}

}  // namespace

asio::awaitable<Reply> Client::command(std::vector<std::string> args,
                                       const kit::trace::Parent* parent) {
  kit::trace::ChildSpan span =
      redis_span(parent, args.empty() ? std::string_view() : std::string_view(args.front()));
  const asio::any_io_executor caller = co_await asio::this_coro::executor;
  const auto& core = core_for(caller);
  try {
    co_return co_await on_executor(core->executor(), caller,
                                   detail::ClientCore::command(core, std::move(args)));
  } catch (const std::exception& e) {
    fail_span(span, e);
    throw;
  }
}

asio::awaitable<Reply> Client::eval(const Script& script, std::vector<std::string> keys,
                                    std::vector<std::string> args,
                                    const kit::trace::Parent* parent) {
  kit::trace::ChildSpan span = redis_span(parent, "EVALSHA");
  const asio::any_io_executor caller = co_await asio::this_coro::executor;
  const auto& core = core_for(caller);
  try {
    co_return co_await on_executor(
        core->executor(), caller,
        detail::ClientCore::eval(core, script, std::move(keys), std::move(args)));
  } catch (const std::exception& e) {
    fail_span(span, e);
    throw;
  }
}

// Every connection, one after the other, each on its own executor: readiness must not report
// Redis up while one I/O thread's connection is still reconnecting (its requests would fail),
// and the PING is what makes a disconnected connection try again after its backoff.
asio::awaitable<void> Client::ping() {
  const asio::any_io_executor caller = co_await asio::this_coro::executor;
  for (const auto& core : cores_) {
    std::vector<std::string> args;
    args.emplace_back("PING");
    Reply reply;
    try {
      reply = co_await on_executor(core->executor(), caller,
                                   detail::ClientCore::command(core, std::move(args)));
    } catch (const ReplyError& e) {
      // e.g. NOAUTH; the server's text never contains our password.
      throw UnavailableError(std::string("redis: ") + std::string(e.what()).substr(0, 200));
    }
    if (reply.type != Reply::Type::status || reply.str != "PONG") {
      throw UnavailableError("redis: unexpected PING reply");
    }
  }
}

asio::awaitable<void> Client::close() {
  for (const auto& core : cores_) {
    auto closing = detail::ClientCore::close(core);
    co_await asio::co_spawn(core->executor(), std::move(closing), use_awaitable);
  }
}

ClientStats Client::stats() const noexcept {
  ClientStats total;
  bool any_up = false;
  bool any_lost = false;
  for (const auto& core : cores_) {
    const ClientStats one = core->stats();
    total.connects += one.connects;
    total.connect_failures += one.connect_failures;
    total.timeouts += one.timeouts;
    any_up = any_up || one.connected;
    any_lost = any_lost || (one.connects > 0 && !one.connected);
  }
  total.connected = any_up && !any_lost;
  return total;
}

const asio::any_io_executor& Client::executor() const noexcept {
  return cores_.front()->executor();
}

}  // namespace kit::redis
