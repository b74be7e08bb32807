#pragma once
// The HTTP/1.1 server: one io_context per I/O thread (thread-per-core), a coroutine per
// connection, keep-alive and pipelining (answered in order), HEAD, defensive limits on every
// read, a deadline on every handler, and a graceful drain on SIGTERM/SIGINT (docs/operations.md
// "Graceful shutdown (drain)"): every response from then on carries `Connection: close`, the
// listener keeps accepting for `shutdown_delay` (while load balancers stop sending here), idle
// keep-alive connections are closed only after a quiet period, in-flight requests finish, then
// the before-stop hook (pools) runs and the threads stop. A second signal exits at once.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "kit/errors/app_error.hpp"
#include "kit/http/pipeline.hpp"
#include "kit/http/router.hpp"

namespace kit::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;  // 0: pick a free port
  unsigned threads = 1;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // Bounds reading a request, its handler (past it: 503 with Retry-After, see handle_bounded)
  // and writing its response, each on its own.
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds keepalive_timeout{75'000};
  std::size_t max_connections = 10'000;
  // After the signal, how long the listener still accepts: the time load balancers need to
  // stop sending new connections here.
  std::chrono::milliseconds shutdown_delay{0};
  // After the listener closed, how long requests under way may take.
  std::chrono::milliseconds shutdown_grace{20'000};
};

class Server {
 public:
  Server(ServerOptions options, const Pipeline& pipeline, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::size_t threads() const noexcept { return workers_.size(); }
  // The executor of I/O thread `i`; drivers (database pools) live on one of these.
  boost::asio::any_io_executor executor(std::size_t i = 0);

  // Called (on I/O thread 0) when a signal starts the drain: readiness turns 503 here.
  void on_shutdown(std::function<void()> hook) { on_shutdown_ = std::move(hook); }
  // Runs on I/O thread 0 after the last connection closed (or the grace ran out): close pools.
  void before_stop(std::function<boost::asio::awaitable<void>()> hook) {
    before_stop_ = std::move(hook);
  }

  // Binds and starts accepting; returns the bound endpoint (the real port when port was 0).
  // Call from the startup coroutine, once dependencies are ready.
  boost::asio::ip::tcp::endpoint listen();

  // Runs the I/O threads: `startup` first runs on thread 0; when it throws, the server stops and
  // run() rethrows. Returns after a graceful shutdown completes.
  void run(std::function<boost::asio::awaitable<void>()> startup);

  // Starts the graceful drain (thread-safe; what the first signal does).
  void shutdown();
  bool shutting_down() const noexcept {
    return listener_closes_at_.load(std::memory_order_acquire) != 0;
  }
  // Open client connections right now.
  std::size_t connections() const noexcept { return connections_.load(std::memory_order_relaxed); }

 private:
  struct Session;
  struct Exchange;
  class ExchangeLease;
  struct HandlerRun;
  struct Worker {
    // Before ctx: the io_context's destruction destroys suspended requests, which give their
    // exchange back here.
    std::vector<std::unique_ptr<Exchange>> spare_exchanges;
    boost::asio::io_context ctx{1};
    std::vector<Session*> sessions;  // touched only on this worker's thread
    // Closing connections read what the client still sends into here, to discard it.
    std::array<char, 4096> sink;
  };

  boost::asio::awaitable<void> accept_loop();
  void drain_backlog();
  boost::asio::awaitable<void> session(Worker& worker, boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<bool> serve_one(Worker& worker, Session& self,
                                         boost::beast::flat_buffer& buffer,
                                         const std::string& peer);
  boost::asio::awaitable<Response> handle_bounded(Worker& worker, Exchange& x);
  boost::asio::awaitable<void> run_handler(std::shared_ptr<HandlerRun> run, Request& req,
                                           RequestContext& ctx);
  boost::asio::awaitable<void> sweep_deadlines(Worker& worker);
  static boost::asio::awaitable<void> close_gracefully(Worker& worker, Session& self);
  boost::asio::awaitable<Response> answer_protocol_error(Request& req, RequestContext& ctx,
                                                         const kit::errors::AppError& error);
  boost::asio::awaitable<void> drain_and_stop();
  std::chrono::steady_clock::time_point drain_idle_deadline(
      std::chrono::steady_clock::time_point idle_since) const;
  void expire_idle_sessions_for_drain();
  void stop_all();
  void wait_for_signals();

  ServerOptions options_;
  const Pipeline& pipeline_;
  const Router& router_;
  Handler router_handler_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  boost::asio::signal_set signals_;
  // When the drain closes the listener, as steady_clock ticks; 0 until a shutdown began.
  std::atomic<std::chrono::steady_clock::rep> listener_closes_at_{0};
  std::chrono::steady_clock::time_point listener_closes_at() const noexcept;
  std::atomic<std::size_t> connections_{0};
  std::size_t next_worker_ = 0;
  std::function<void()> on_shutdown_;
  std::function<boost::asio::awaitable<void>()> before_stop_;
  std::exception_ptr startup_error_;
};

}  // namespace kit::http
