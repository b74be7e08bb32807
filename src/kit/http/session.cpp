// The connection half of the server: one coroutine per connection that reads requests, runs
// each through the middleware chain with its handler racing the request deadline, and writes
// the responses in order; the per-thread sweeper that enforces connection deadlines; closing
// gracefully. The listener and the drain are in server.cpp.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "kit/async/deadline.hpp"
#include "kit/errors/app_error.hpp"
#include "kit/http/detail/server_state.hpp"
#include "kit/http/error_response.hpp"
#include "kit/http/request_reader.hpp"
#include "kit/http/response.hpp"
#include "kit/http/response_writer.hpp"
#include "kit/http/server.hpp"
#include "kit/log/log.hpp"

namespace kit::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {

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
      // race.
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
    // The one route match: every link of the chain and the router read it from ctx.
    router_.find(req.method(), target_path(req.target()), ctx);
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
  x.ctx.deadline =
      kit::async::Deadline::after(options_.request_timeout).traced(x.ctx.span_parent());
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
