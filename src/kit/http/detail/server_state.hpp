#pragma once
// The state of connections and requests, shared by the listener (server.cpp: the drain sets
// idle connections' deadlines) and the connections (session.cpp). Private to kit/http.
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "kit/errors/app_error.hpp"
#include "kit/http/request_reader.hpp"
#include "kit/http/server.hpp"

namespace kit::http {

// A connection's state seen by its worker: the sweeper cancels the pending operation of any
// whose deadline passed (the drain shortens the deadline of idle ones).
struct Server::Session {
  boost::asio::ip::tcp::socket* socket = nullptr;
  bool idle = false;  // waiting for the next request
  // When the operation under way must end: keep-alive wait, request read, response write.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  void expire_after(std::chrono::steady_clock::duration d) {
    deadline = std::chrono::steady_clock::now() + d;
  }
  void expire_never() { deadline = std::chrono::steady_clock::time_point::max(); }
};

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
  explicit HandlerRun(const boost::asio::any_io_executor& executor) : timer(executor) {}
  boost::asio::steady_timer timer;  // expires at the deadline; cancelled when the handler returns
  std::optional<Response> response;
  std::exception_ptr error;
  bool done = false;
  bool abandoned = false;  // answered 503: what the handler returns is dropped
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<Exchange> orphan;  // the exchange, after the request was answered without it
};

}  // namespace kit::http
