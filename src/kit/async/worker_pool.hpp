#pragma once
// A bounded pool of CPU/blocking worker threads for coroutines on the I/O threads: argon2id
// hashing, SQLite calls. `co_await pool.run(fn)` runs fn on a worker and resumes the caller on
// its own executor, so no I/O thread ever runs the work. When more than `max_queue` jobs are
// waiting, run() throws ServiceUnavailable instead of queueing without bound.
//
// Lifetime: stop or destroy the pool BEFORE the io_contexts it resumes callers on. A worker
// hands the result over with post(), and Asio signals the io_context's condition variable after
// releasing its lock, so the worker may still be inside post() when the resumed caller has
// finished; destroying that io_context then is a use-after-free (ThreadSanitizer reports it).
//
// GCC 12 destroys a capturing lambda twice when it is a temporary inside a co_await expression
// (`co_await pool.run([s] {...})` double-frees `s`). Name the lambda first:
//   auto job = [s] { ... };
//   co_await pool.run(std::move(job));
#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/errors/app_error.hpp"

namespace kit::async {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t max_queue) : pool_(threads), max_queue_(max_queue) {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() { stop(); }

  // Runs fn() on a worker thread; the result (or exception) is delivered on the caller's executor.
  // A job whose deadline has passed when a worker takes it is not run: the caller gets
  // DeadlineExceeded, and the worker goes on to the next job.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&>> run(F fn, Deadline deadline = {}) {
    using R = std::invoke_result_t<F&>;
    if (pending_.fetch_add(1, std::memory_order_relaxed) >= max_queue_) {
      pending_.fetch_sub(1, std::memory_order_relaxed);
      throw kit::errors::ServiceUnavailable("Server is busy, try again");
    }
    auto caller = co_await boost::asio::this_coro::executor;
    using Slot = std::conditional_t<std::is_void_v<R>, std::optional<bool>, std::optional<R>>;
    Slot result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                       void(std::exception_ptr, Slot)>(
        [this, caller, &fn, deadline](auto handler) {
          boost::asio::post(
              pool_, [this, caller, &fn, deadline, handler = std::move(handler)]() mutable {
                std::exception_ptr error;
                Slot slot;
                try {
                  if (deadline.passed()) {
                    dropped_.fetch_add(1, std::memory_order_relaxed);
                    throw DeadlineExceeded();
                  }
                  if constexpr (std::is_void_v<R>) {
                    fn();
                    slot.emplace(true);
                  } else {
                    slot.emplace(fn());
                  }
                } catch (...) {
                  error = std::current_exception();
                }
                pending_.fetch_sub(1, std::memory_order_relaxed);
                // Everything moves to the caller: the worker keeps no reference to the exception,
                // so the caller's thread is the one that releases it.
                boost::asio::post(caller, [handler = std::move(handler), error = std::move(error),
                                           slot = std::move(slot)]() mutable {
                  std::move(handler)(std::move(error), std::move(slot));
                });
              });
        },
        boost::asio::use_awaitable);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
  }

  // Jobs queued or running right now.
  std::size_t pending() const noexcept { return pending_.load(std::memory_order_relaxed); }
  // Jobs not run because their deadline had passed when a worker took them.
  std::uint64_t dropped_past_deadline() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
  }

  void stop() {
    pool_.stop();
    pool_.join();
  }

 private:
  boost::asio::thread_pool pool_;
  std::size_t max_queue_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace kit::async
