#pragma once
// Work a request starts and its answer does not wait for (an email to queue after a 202, say):
// bounded in number, and drained at shutdown. Each task runs as its own coroutine on the given
// executor; a task must catch and report its own errors (what escapes is dropped here).
#include <utility>

#include <atomic>
#include <chrono>
#include <cstddef>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kit::async {

class Background {
 public:
  explicit Background(std::size_t max_running) noexcept : max_running_(max_running) {}
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Starts `task` on `executor` unless max_running tasks run already (then it is dropped and
  // false returned: the caller logs or counts it).
  bool spawn(const boost::asio::any_io_executor& executor, boost::asio::awaitable<void> task) {
    if (running_.fetch_add(1) >= max_running_) {
      running_.fetch_sub(1);
      return false;
    }
    boost::asio::co_spawn(executor, std::move(task),
                          [this](const std::exception_ptr&) { running_.fetch_sub(1); });
    return true;
  }

  // Waits until no task runs, at most `limit` (checked every 10 ms); returns whether all ended.
  boost::asio::awaitable<bool> drain(std::chrono::milliseconds limit) {
    boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor);
    const auto until = std::chrono::steady_clock::now() + limit;
    while (running_.load() > 0 && std::chrono::steady_clock::now() < until) {
      wait.expires_after(std::chrono::milliseconds(10));
      boost::system::error_code ec;
      co_await wait.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    co_return running_.load() == 0;
  }

  std::size_t running() const noexcept { return running_.load(); }

 private:
  std::size_t max_running_;
  std::atomic<std::size_t> running_{0};
};

}  // namespace kit::async
