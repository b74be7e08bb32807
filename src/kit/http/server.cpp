#include "kit/http/server.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "kit/async/deadline.hpp"
#include "kit/errors/app_error.hpp"
#include "kit/http/error_response.hpp"
#include "kit/http/request_reader.hpp"
#include "kit/http/response.hpp"
#include "kit/log/log.hpp"

namespace kit::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

// A connection's state seen by its worker: the sweeper cancels the pending operation of any
// whose deadline passed (the drain shortens the deadline of idle ones).
struct Server::Session {
  tcp::socket* socket = nullptr;
  bool idle = false;  // waiting for the next request
  // When the operation under way must end: keep-alive wait, request read, response write.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  void expire_after(std::chrono::steady_clock::duration d) {
    deadline = std::chrono::steady_clock::now() + d;
  }
  void expire_never() { deadline = std::chrono::steady_clock::time_point::max(); }
};

namespace {

// During a drain, an idle connection is closed only after it has been idle this long since the
// signal (or since it went idle, if later): a request the client had already put on the wire
// when the drain began arrives within it and is answered instead of lost.
constexpr std::chrono::milliseconds kDrainQuietPeriod{1000};
// How long a closing connection reads (and discards) what the client still sends.
constexpr std::chrono::milliseconds kCloseWait{2000};

// Timeouts (keep-alive, request, close) are deadlines that each I/O thread's sweeper checks:
// no timer per connection or per operation. The read that waits for a request uses a small
// buffer, so a kept-alive connection waiting between requests holds ~3 KiB (10,000 idle
// connections: ~30 MiB, not 126). Typical requests (a bearer token
// included) fit in the buffer; a larger one makes the parser read on with a grown buffer.
constexpr std::size_t kFirstReadBytes = 1024;
// A buffer a large request grew beyond this is given back before the connection idles.
constexpr std::size_t kIdleBufferLimit = 4096;

// Writes into `out` the status line and header fields of `res`, then `fixed_headers` (already in
// wire form, see RequestContext), as HTTP/1.1 wire bytes, like Beast's
// serializer writes them for a Content-Length framed message. One contiguous buffer: Beast's
// serializer walks a nested buffer sequence per write, which cost more than the copy (bench/).
void serialize_header(const Response& res, std::string_view fixed_headers, std::string& out) {
  std::string_view reason = res.reason();
  if (reason.empty()) reason = bhttp::obsolete_reason(res.result());
  std::size_t size = 17 + reason.size() + fixed_headers.size();
  for (const auto& f : res) size += f.name_string().size() + f.value().size() + 4;
  out.clear();
  out.reserve(size);
  const unsigned version = res.version();
  const unsigned code = res.result_int();
  const char start[] = {'H',
                        'T',
                        'T',
                        'P',
                        '/',
                        static_cast<char>('0' + version / 10),
                        '.',
                        static_cast<char>('0' + version % 10),
                        ' ',
                        static_cast<char>('0' + code / 100 % 10),
                        static_cast<char>('0' + code / 10 % 10),
                        static_cast<char>('0' + code % 10),
                        ' '};
  out.append(start, sizeof start);
  out.append(reason);
  out.append("\r\n");
  for (const auto& f : res) {
    out.append(f.name_string());
    out.append(": ");
    out.append(f.value());
    out.append("\r\n");
  }
  out.append(fixed_headers);
  out.append("\r\n");
}

// The terminal handler for protocol errors seen before routing: it raises the error so the
// error-mapping link renders it like any other.
struct Reject {
  const errors::AppError* error;
  asio::awaitable<Response> operator()(Request&, RequestContext&) const {
    throw *error;
    co_return Response{};
  }
};

// The peer in canonical text (a mapped IPv4 address as IPv4): ClientIp keeps it as it is when
// no proxy is trusted.
std::string peer_address(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return {};
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  return addr.to_string();
}

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::error::broken_pipe ||
         ec == bhttp::error::partial_message;
}

}  // namespace

Server::Server(ServerOptions options, const Pipeline& pipeline, const Router& router)
    : options_(std::move(options)),
      pipeline_(pipeline),
      router_(router),
      router_handler_(
          [&router](Request& req, RequestContext& ctx) { return router.dispatch(req, ctx); }),
      signals_([&]() -> asio::io_context& {
        const unsigned n = std::max(1u, options_.threads);
        for (unsigned i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
        return workers_.front()->ctx;
      }()) {
  for (auto& w : workers_) guards_.emplace_back(w->ctx.get_executor());
}

Server::~Server() = default;

asio::any_io_executor Server::executor(std::size_t i) {
  return workers_.at(i)->ctx.get_executor();
}

tcp::endpoint Server::listen() {
  auto& ctx = workers_.front()->ctx;
  const auto address = asio::ip::make_address(options_.host);
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_ = std::make_unique<tcp::acceptor>(ctx);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  if (address.is_v6()) acceptor_->set_option(asio::ip::v6_only(false));  // "::" = dual stack
  acceptor_->bind(endpoint);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(ctx, accept_loop(), asio::detached);
  return acceptor_->local_endpoint();
}

void Server::run(std::function<asio::awaitable<void>()> startup) {
  wait_for_signals();
  asio::co_spawn(workers_.front()->ctx, startup(), [this](std::exception_ptr e) {
    if (e) {
      startup_error_ = e;
      stop_all();
    }
  });
  for (auto& w : workers_) asio::co_spawn(w->ctx, sweep_deadlines(*w), asio::detached);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    threads.emplace_back([w = workers_[i].get()] { w->ctx.run(); });
  }
  workers_.front()->ctx.run();
  for (auto& t : threads) t.join();
  if (startup_error_) std::rethrow_exception(startup_error_);
}

void Server::wait_for_signals() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    kit::log::info("server", "shutdown_requested",
                   {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
    shutdown();
    // A second signal means "now": exit without draining.
    signals_.async_wait([](const boost::system::error_code& ec2, int) {
      if (ec2) return;
      kit::log::warning("server", "forced_exit", {});
      kit::log::flush();
      std::_Exit(1);
    });
  });
}

void Server::shutdown() {
  if (shutdown_requested_.exchange(true, std::memory_order_acq_rel)) return;
  listener_closes_at_ = std::chrono::steady_clock::now() + options_.shutdown_delay;
  shutting_down_.store(true, std::memory_order_release);
  asio::post(workers_.front()->ctx, [this] {
    if (on_shutdown_) on_shutdown_();
    asio::co_spawn(workers_.front()->ctx, drain_and_stop(), asio::detached);
  });
}

void Server::drain_backlog() {
  // Connections the kernel already accepted are served (with Connection: close) rather than
  // reset when the listening socket closes.
  if (!acceptor_ || !acceptor_->is_open()) return;
  boost::system::error_code ec;
  acceptor_->non_blocking(true, ec);
  for (int i = 0; i < 10'000; ++i) {
    Worker& w = *workers_[next_worker_++ % workers_.size()];
    tcp::socket socket(w.ctx);
    acceptor_->accept(socket, ec);
    if (ec) break;
    connections_.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(w.ctx, session(w, std::move(socket)), asio::detached);
  }
  acceptor_->close(ec);
}

// Enforces every connection deadline of one I/O thread: cancels the pending operation of a
// connection whose deadline passed (a read then fails and the connection closes). One timer
// per thread instead of one per connection and operation; a deadline is enforced to within an
// eighth of the shortest timeout (at most 250 ms late).
asio::awaitable<void> Server::sweep_deadlines(Worker& worker) {
  using namespace std::chrono_literals;
  const auto shortest = std::min<std::chrono::steady_clock::duration>(
      {options_.keepalive_timeout, options_.request_timeout, kCloseWait});
  const auto interval = std::clamp<std::chrono::steady_clock::duration>(shortest / 8, 10ms, 250ms);
  asio::steady_timer timer(worker.ctx);
  for (;;) {
    timer.expires_after(interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const auto now = std::chrono::steady_clock::now();
    for (Session* s : worker.sessions) {
      if (now >= s->deadline) {
        s->expire_never();
        s->socket->cancel(ec);
      }
    }
  }
}

// When a connection that went idle at `idle_since`, during the drain, is closed: not before the
// listener closes (until then load balancers may still pick it from their pools) and not before
// it has been quiet for kDrainQuietPeriod.
std::chrono::steady_clock::time_point Server::drain_idle_deadline(
    std::chrono::steady_clock::time_point idle_since) const {
  return std::max(listener_closes_at_, idle_since + kDrainQuietPeriod);
}

// The connections idle when the drain begins get the drain's deadline (the sweeper closes them
// then, unless a request arrives first: it is answered with Connection: close).
void Server::expire_idle_sessions_for_drain() {
  const auto at = drain_idle_deadline(std::chrono::steady_clock::now());
  for (auto& w : workers_) {
    asio::post(w->ctx, [worker = w.get(), at] {
      for (Session* s : worker->sessions) {
        if (s->idle) s->deadline = std::min(s->deadline, at);
      }
    });
  }
}

asio::awaitable<void> Server::drain_and_stop() {
  // No connection is closed under a client here: busy ones close after their response (which
  // says Connection: close), idle ones once they have been quiet past their drain deadline.
  expire_idle_sessions_for_drain();
  asio::steady_timer timer(workers_.front()->ctx);
  // The listener stays open while the load balancers take this instance out of rotation.
  if (std::chrono::steady_clock::now() < listener_closes_at_) {
    timer.expires_at(listener_closes_at_);
    co_await timer.async_wait(asio::use_awaitable);
  }
  drain_backlog();
  kit::log::info("server", "listener_closed", {{"open_connections", connections_.load()}});
  const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  while (connections_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (connections_.load() > 0) {
    kit::log::warning("server", "shutdown_grace_expired",
                      {{"open_connections", connections_.load()}});
  }
  if (before_stop_) {
    try {
      co_await before_stop_();
    } catch (const std::exception& e) {
      kit::log::error("server", "shutdown_hook_failed", {{"message", e.what()}});
    }
  }
  stop_all();
}

void Server::stop_all() {
  boost::system::error_code ec;
  signals_.cancel(ec);
  if (acceptor_) acceptor_->close(ec);
  for (auto& g : guards_) g.reset();
  for (auto& w : workers_) w->ctx.stop();
}

asio::awaitable<void> Server::accept_loop() {
  asio::steady_timer backoff(workers_.front()->ctx);
  for (;;) {
    // Beyond MAX_CONNECTIONS new connections wait in the kernel's backlog.
    while (connections_.load(std::memory_order_relaxed) >= options_.max_connections) {
      backoff.expires_after(std::chrono::milliseconds(5));
      co_await backoff.async_wait(asio::use_awaitable);
    }
    // Open through the drain's delay too: drain_and_stop() closes the acceptor.
    if (!acceptor_->is_open()) co_return;
    Worker& w = *workers_[next_worker_++ % workers_.size()];
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_->async_accept(w.ctx, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {
      // EMFILE and friends: say so and back off instead of spinning.
      kit::log::warning("server", "accept_failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    connections_.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(w.ctx, session(w, std::move(socket)), asio::detached);
  }
}

// Answers a protocol error through the middleware chain so it gets the envelope, the request
// id, the security headers and an access log line like any other response.
asio::awaitable<Response> Server::answer_protocol_error(Request& req, RequestContext& ctx,
                                                        const errors::AppError& error) {
  const Handler terminal = Reject{&error};
  co_return co_await pipeline_.handle(req, ctx, terminal);
}

asio::awaitable<void> Server::session(Worker& worker, tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);  // serve_one() tries each response's write at once
  const std::string peer = peer_address(socket);
  Session self{&socket};
  worker.sessions.push_back(&self);
  beast::flat_buffer buffer;

  // This frame lives as long as the connection, so it holds only what an idle connection
  // needs; a request's parser, context and response live in an Exchange while serve_one() runs.
  for (;;) {
    if (buffer.size() == 0) {
      if (buffer.capacity() > kIdleBufferLimit) buffer.shrink_to_fit();
      // Waiting for the next request on a kept-alive (or new) connection, without a timer:
      // the worker's sweeper cancels the read at the keep-alive timeout, as the shutdown
      // drain does. A read (not a readiness wait) finds a request already there in one call.
      self.idle = true;
      self.expire_after(options_.keepalive_timeout);
      if (shutting_down()) {
        self.deadline =
            std::min(self.deadline, drain_idle_deadline(std::chrono::steady_clock::now()));
      }
      const std::size_t n = co_await socket.async_read_some(
          buffer.prepare(kFirstReadBytes), asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      self.idle = false;
      if (ec) {
        // Cancelled: serve bytes that already arrived, else close.
        boost::system::error_code ec2;
        const bool cancelled_with_data =
            ec == asio::error::operation_aborted && socket.is_open() && socket.available(ec2) > 0;
        if (n == 0 && !cancelled_with_data) break;
        ec = {};
      }
    }
    const bool keep_alive = co_await serve_one(worker, self, buffer, peer);
    if (!keep_alive) break;
  }

  co_await close_gracefully(worker, self);
  std::erase(worker.sessions, &self);
  connections_.fetch_sub(1, std::memory_order_relaxed);
}

// What one request needs while it is read, handled and answered. Kept out of serve_one()'s
// coroutine frame and reused per I/O thread: with it the frame was 2.2 KiB, beyond malloc's
// per-thread cache, and cost a slow allocation and a free-list consolidation per request. The
// serialized header's buffer is reused too.
struct Server::Exchange {
  std::optional<RequestParser> parser;
  Request req;
  RequestContext ctx;  // reset, not destroyed, between requests: its strings keep their capacity
  std::optional<Response> res;
  std::optional<errors::AppError> protocol_error;
  std::string header;
  // The route's handler of this request, racing the request timeout (handle_bounded()).
  std::shared_ptr<HandlerRun> run;
  // The terminal handler given to the pipeline: handle_bounded() for this exchange. Made once
  // per exchange, not per request.
  Handler bounded;
};

// A handler running in a coroutine of its own, so that the request can be answered when its
// deadline passes while the handler still waits (for a database, a lock, a worker). The
// handler's coroutine holds the run, and the run holds the exchange once the request gave up
// on it: the handler's Request and RequestContext stay alive until it returns.
struct Server::HandlerRun {
  explicit HandlerRun(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;  // expires at the deadline; cancelled when the handler returns
  std::optional<Response> response;
  std::exception_ptr error;
  bool done = false;
  bool abandoned = false;  // answered 503: what the handler returns is dropped
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<Exchange> orphan;  // the exchange, after the request was answered without it
};

namespace {

// A spare exchange comes back cleared; more than this many stay allocated per I/O thread only
// while that many requests are under way.
constexpr std::size_t kSpareExchanges = 64;
constexpr std::size_t kKeptHeaderCapacity = 4096;

}  // namespace

// Takes an exchange from the worker's spares (or a new one) and gives it back cleared, also
// when the coroutine holding it is destroyed (the worker's spares outlive its io_context).
class Server::ExchangeLease {
 public:
  explicit ExchangeLease(Worker& worker) : worker_(worker) {
    if (worker_.spare_exchanges.empty()) {
      exchange_ = std::make_unique<Exchange>();
    } else {
      exchange_ = std::move(worker_.spare_exchanges.back());
      worker_.spare_exchanges.pop_back();
    }
  }
  ExchangeLease(const ExchangeLease&) = delete;
  ExchangeLease& operator=(const ExchangeLease&) = delete;
  ~ExchangeLease() {
    if (std::shared_ptr<HandlerRun> run = std::move(exchange_->run); run && !run->done) {
      // The request timed out and its handler still runs on the exchange's request and
      // context: the handler's run keeps the exchange until the handler returns.
      run->orphan = std::move(exchange_);
      return;
    }
    if (worker_.spare_exchanges.size() >= kSpareExchanges) return;
    Exchange& x = *exchange_;
    x.parser.reset();
    x.req = Request{};
    x.ctx.reset();  // RequestContext::reset(): cleared in place
    x.res.reset();
    x.protocol_error.reset();
    x.header.clear();
    if (x.header.capacity() > kKeptHeaderCapacity) x.header.shrink_to_fit();
    worker_.spare_exchanges.push_back(std::move(exchange_));
  }
  Exchange& operator*() const noexcept { return *exchange_; }

 private:
  Worker& worker_;
  std::unique_ptr<Exchange> exchange_;
};

// GCC 12 reports a false -Wmismatched-new-delete in this coroutine's ramp: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Reads one request (the first bytes are already in `buffer`), runs it through the middleware
// chain and writes the response. Returns whether the connection stays open for another one.
asio::awaitable<bool> Server::serve_one(Worker& worker, Session& self, beast::flat_buffer& buffer,
                                        const std::string& peer) {
  tcp::socket& stream = *self.socket;
  boost::system::error_code ec;
  const ExchangeLease lease(worker);
  Exchange& x = *lease;
  if (!x.bounded) {
    x.bounded = [this, &worker, &x](Request& req, RequestContext& ctx) {
      // A route that never waits (RouteInfo::waits), or no route (404, 405), runs without the
      // race; the match is kept in ctx, so the router does not repeat it.
      if (ctx.matched_route == nullptr) router_.find(req.method(), target_path(req.target()), ctx);
      if (ctx.route_info == nullptr || !ctx.route_info->waits) return router_handler_(req, ctx);
      return handle_bounded(worker, x);
    };
  }
  bool close_after = false;
  RequestParser& parser = x.parser.emplace(options_.max_header_bytes, options_.max_body_bytes);
  // No request makes the connection buffer more than this (request_reader.hpp).
  buffer.max_size(options_.max_header_bytes + options_.max_body_bytes);
  self.expire_after(options_.request_timeout);  // reading the header and the body
  if (need_more_bytes(parser, buffer, ec, ReadUntil::header)) {
    co_await read_request(stream, buffer, parser, ReadUntil::header, ec);
  }
  std::optional<std::string> framing;
  if (!ec) framing = framing_problem(parser);
  if (!ec && !framing && !parser.is_done()) {
    // Tell a client that waits for "100 Continue" to send its body (curl does for >1 KiB).
    const auto expect = parser.get()[Field::expect];
    if (beast::iequals(expect, "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec && need_more_bytes(parser, buffer, ec, ReadUntil::message)) {
      co_await read_request(stream, buffer, parser, ReadUntil::message, ec);
    }
  }
  Request& req = x.req;
  std::optional<errors::AppError>& protocol_error = x.protocol_error;
  if (framing) {
    req = parser.release();  // the header is complete: keep its X-Request-ID
    protocol_error.emplace(errors::BadRequest(*framing));
  } else if (parser.trailer_refused()) {
    req = parser.release();  // the header's fields only: the trailer was not merged
    protocol_error.emplace(errors::BadRequest("Trailer fields are not accepted"));
  } else if (ec == bhttp::error::header_limit) {
    // The header, or its chunk extensions and trailer section with it, passed the limit.
    if (parser.is_header_done()) req = parser.release();
    protocol_error.emplace(errors::HeadersTooLarge());
  } else if (ec == bhttp::error::body_limit) {
    req = parser.release();  // the header is complete: keep its X-Request-ID
    protocol_error.emplace(errors::PayloadTooLarge());
  } else if (ec && is_disconnect(ec)) {
    co_return false;
  } else if (ec) {
    // Malformed request line, header or chunked body: 400, then close (framing is lost).
    if (parser.is_header_done()) req = parser.release();
    protocol_error.emplace(errors::BadRequest("Malformed HTTP request: " + ec.message()));
  }
  std::optional<Response>& res = x.res;
  RequestContext& ctx = x.ctx;
  ctx.client_ip = peer;
  ctx.started = std::chrono::steady_clock::now();
  if (protocol_error) {
    req.body().clear();
    close_after = true;
    res = co_await answer_protocol_error(req, ctx, *protocol_error);
  } else {
    req = parser.release();
    self.expire_never();  // the handler races its own deadline (handle_bounded)
    try {
      res = co_await pipeline_.handle(req, ctx, x.bounded);
    } catch (const std::exception& e) {
      // The chain renders every error itself; this is the last line of defence.
      kit::log::error("server", "unhandled_exception", {{"message", e.what()}});
      res = internal_error_response(ctx.request_id, req.version());
    }
    // A handler past its deadline still runs: this client gets no more of this connection.
    if (x.run && x.run->abandoned) close_after = true;
  }

  // While draining, requests the client already pipelined into our buffer are still served;
  // the connection closes after the last of them.
  const bool keep_alive =
      !close_after && req.keep_alive() && (!shutting_down() || buffer.size() > 0);
  res->version(req.version() == 10 ? 10 : 11);
  res->keep_alive(keep_alive);
  frame_body(*res);
  self.expire_after(options_.request_timeout);  // writing the response
  const bool head_only = req.method() == Verb::head;
  if (res->chunked()) {
    // No handler asks for chunked framing today; Beast's serializer handles it if one does.
    add_fixed_headers(*res, ctx.fixed_headers);
    co_await write_chunked(stream, *res, head_only, ec);
  } else {
    serialize_header(*res, ctx.fixed_headers, x.header);
    std::array<asio::const_buffer, 2> wire{
        asio::buffer(x.header), head_only ? asio::const_buffer{} : asio::buffer(res->body())};
    // A response usually fits the socket's send buffer: one non-blocking send now (the same
    // sendmsg Asio's write would try first), and an asynchronous write only for what is left,
    // which spares the completion Asio posts through the scheduler and the coroutine's resumption.
    std::size_t sent = stream.write_some(wire, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      sent = 0;
    }
    if (!ec && sent < wire[0].size() + wire[1].size()) {
      if (sent >= wire[0].size()) {
        wire[1] += sent - wire[0].size();
        wire[0] = asio::const_buffer{};
      } else {
        wire[0] += sent;
      }
      co_await asio::async_write(stream, wire, asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  co_return !ec && keep_alive;
}

// The route's handler, bounded by the request timeout: it runs in a coroutine of its own
// while this one waits for it or for the deadline, whichever comes first. Past the deadline the
// request is answered 503 with Retry-After (through the chain, like any error) and the
// connection closes. The handler's work is cancelled through ctx.deadline: every step that
// checks it (kit::async::Deadline) throws instead of beginning, so the handler stops at its
// next such step (handler_cancelled); one that never reaches such a step runs to its own bounds
// and what it returns is dropped (handler_finished_after_timeout).
asio::awaitable<Response> Server::handle_bounded(Worker& worker, Exchange& x) {
  auto run = std::make_shared<HandlerRun>(worker.ctx.get_executor());
  x.run = run;
  x.ctx.deadline = kit::async::Deadline::after(options_.request_timeout);
  run->timer.expires_at(x.ctx.deadline.at());
  asio::co_spawn(worker.ctx, run_handler(run, x.req, x.ctx), asio::detached);
  boost::system::error_code ec;
  co_await run->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (run->done) {
    if (run->error) std::rethrow_exception(run->error);
    co_return std::move(*run->response);
  }
  run->abandoned = true;
  x.ctx.log("server").warning(
      "request_timed_out",
      {{"timeout_ms", static_cast<std::int64_t>(options_.request_timeout.count())}});
  throw kit::async::DeadlineExceeded();
}

asio::awaitable<void> Server::run_handler(std::shared_ptr<HandlerRun> run, Request& req,
                                          RequestContext& ctx) {
  try {
    run->response.emplace(co_await router_handler_(req, ctx));
  } catch (...) {
    run->error = std::current_exception();
  }
  run->done = true;
  if (!run->abandoned) {
    run->timer.cancel();  // wakes handle_bounded()
    co_return;
  }
  const auto took = std::chrono::steady_clock::now() - run->started;
  // Cancelled: the handler's work stopped at a step that checks the deadline
  // (kit::async::Deadline). Otherwise a step already under way ran to its own bound.
  bool cancelled = false;
  try {
    if (run->error) std::rethrow_exception(run->error);
  } catch (const kit::async::DeadlineExceeded&) {
    cancelled = true;
  } catch (...) {
  }
  ctx.log("server").warning(
      cancelled ? "handler_cancelled" : "handler_finished_after_timeout",
      {{"duration_ms", static_cast<std::int64_t>(
                           std::chrono::duration_cast<std::chrono::milliseconds>(took).count())}});
}

// In a frame of its own: Beast's serializer is large and no handler uses chunked framing today.
asio::awaitable<void> Server::write_chunked(tcp::socket& stream, Response& res, bool head_only,
                                            boost::system::error_code& ec) {
  bhttp::response_serializer<bhttp::string_body> serializer(res);
  if (head_only) {
    co_await bhttp::async_write_header(stream, serializer,
                                       asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await bhttp::async_write(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
  }
}
#pragma GCC diagnostic pop

// Close gracefully: send FIN, then read (bounded) what the client still sends so that the
// kernel does not answer unread data with a reset that could destroy our last response.
asio::awaitable<void> Server::close_gracefully(Worker& worker, Session& self) {
  tcp::socket& socket = *self.socket;
  if (!socket.is_open()) co_return;
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  self.idle = false;
  self.expire_after(kCloseWait);
  for (int i = 0; i < 64; ++i) {
    co_await socket.async_read_some(asio::buffer(worker.sink),
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  socket.close(ec);
}

}  // namespace kit::http
