// The listener half of the server: the I/O threads, accepting, signals and the graceful drain.
// Connections and requests are in session.cpp.
#include "kit/http/server.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdlib>
#include <string>

#include "kit/http/detail/server_state.hpp"
#include "kit/log/log.hpp"

namespace kit::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {

// During a drain, an idle connection is closed only after it has been idle this long since the
// signal (or since it went idle, if later): a request the client had already put on the wire
// when the drain began arrives within it and is answered instead of lost.
constexpr std::chrono::milliseconds kDrainQuietPeriod{1000};

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
  const auto at = std::chrono::steady_clock::now() + options_.shutdown_delay;
  std::chrono::steady_clock::rep none = 0;
  if (!listener_closes_at_.compare_exchange_strong(
          none, std::max<std::chrono::steady_clock::rep>(1, at.time_since_epoch().count()),
          std::memory_order_acq_rel)) {
    return;  // a drain is under way
  }
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

// When a connection that went idle at `idle_since`, during the drain, is closed: not before the
// listener closes (until then load balancers may still pick it from their pools) and not before
// it has been quiet for kDrainQuietPeriod.
std::chrono::steady_clock::time_point Server::listener_closes_at() const noexcept {
  return std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(listener_closes_at_.load(std::memory_order_acquire)));
}

std::chrono::steady_clock::time_point Server::drain_idle_deadline(
    std::chrono::steady_clock::time_point idle_since) const {
  return std::max(listener_closes_at(), idle_since + kDrainQuietPeriod);
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
  if (std::chrono::steady_clock::now() < listener_closes_at()) {
    timer.expires_at(listener_closes_at());
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

}  // namespace kit::http
