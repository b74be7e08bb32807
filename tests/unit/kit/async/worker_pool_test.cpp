// kit::async::WorkerPool: CPU/blocking work runs on a worker thread and the coroutine resumes on
// its own executor; results, exceptions and the queue bound (docs/life-of-a-request.md).
#include "kit/async/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kit/async/deadline.hpp"
#include "kit/errors/app_error.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
using kit::async::WorkerPool;
using namespace std::chrono_literals;

using test_support::run_coroutine;

struct Threads {
  std::thread::id before, worker, after;
};

TEST(WorkerPool, RunsOnAWorkerAndResumesOnTheCallerThread) {
  // The io_context first, so it outlives the pool: a worker may still be inside its post()
  // when the resumed caller finishes (see WorkerPool).
  asio::io_context io;
  WorkerPool pool(2, 16);
  // The I/O "thread" is a dedicated thread, so the check does not depend on the test thread.
  std::promise<Threads> seen;
  std::thread::id io_thread;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Threads t;
        t.before = std::this_thread::get_id();
        t.worker = co_await pool.run([] {
          std::this_thread::sleep_for(20ms);  // long enough that resuming inline would show
          return std::this_thread::get_id();
        });
        t.after = std::this_thread::get_id();
        seen.set_value(t);
      },
      asio::detached);
  std::thread runner([&] {
    io_thread = std::this_thread::get_id();
    io.run();
  });
  runner.join();
  const Threads t = seen.get_future().get();
  EXPECT_EQ(t.before, io_thread);
  EXPECT_NE(t.worker, io_thread);
  EXPECT_NE(t.worker, std::this_thread::get_id());
  EXPECT_EQ(t.after, io_thread);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(WorkerPool, ValueResults) {
  asio::io_context io;
  WorkerPool pool(1, 16);
  EXPECT_EQ(run_coroutine(io, pool.run([] { return 6 * 7; })), 42);
  EXPECT_EQ(run_coroutine(io, pool.run([] { return std::string(1000, 'x'); })),
            std::string(1000, 'x'));
  const auto ptr =
      run_coroutine(io, pool.run([] { return std::make_unique<int>(5); }));  // move-only
  ASSERT_NE(ptr, nullptr);
  EXPECT_EQ(*ptr, 5);
  // Captured state is used by the worker and the result reflects it.
  std::vector<int> input{1, 2, 3, 4};
  EXPECT_EQ(run_coroutine(io, pool.run([&input] {
              int sum = 0;
              for (int v : input) sum += v;
              return sum;
            })),
            10);
}

TEST(WorkerPool, VoidResults) {
  asio::io_context io;
  WorkerPool pool(1, 16);
  std::atomic<int> calls{0};
  run_coroutine(io, [&]() -> asio::awaitable<void> {
    co_await pool.run([&] { calls.fetch_add(1); });
    co_await pool.run([&] { calls.fetch_add(1); });
  }());
  EXPECT_EQ(calls.load(), 2);
}

TEST(WorkerPool, ExceptionsPropagateToTheCaller) {
  asio::io_context io;
  WorkerPool pool(1, 16);
  try {
    run_coroutine(io, pool.run([]() -> int { throw std::runtime_error("boom"); }));
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
  // The type survives, so an AppError thrown by a worker still maps to its envelope.
  EXPECT_THROW(run_coroutine(io, pool.run([] { throw kit::errors::Conflict("taken"); })),
               kit::errors::Conflict);
  // And the pool keeps working afterwards.
  EXPECT_EQ(run_coroutine(io, pool.run([] { return 1; })), 1);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(WorkerPool, ManyConcurrentJobsAllComplete) {
  asio::io_context io;
  WorkerPool pool(2, 1000);
  std::vector<std::future<int>> results;
  for (int i = 0; i < 200; ++i) {
    results.push_back(asio::co_spawn(io, pool.run([i] { return i * i; }), asio::use_future));
  }
  io.run();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)].get(), i * i);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(WorkerPool, QueueBoundGivesServiceUnavailable) {
  constexpr std::size_t kThreads = 1;
  constexpr std::size_t kMaxQueue = 2;
  asio::io_context io;
  WorkerPool pool(kThreads, kMaxQueue);
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();

  struct Outcome {
    int accepted = 0;
    int rejected = 0;
    bool rejected_ok = true;  // every rejection is a 503 with Retry-After
    std::size_t pending_at_peak = 0;
  };
  auto outcome = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<Outcome> {
        Outcome o;
        const auto ex = co_await asio::this_coro::executor;
        std::vector<std::future<int>> blocked;
        for (int i = 0; i < 5; ++i) {
          blocked.push_back(asio::co_spawn(ex, pool.run([open, i] {
            open.wait();
            return i;
          }),
                                           asio::use_future));
        }
        // Let the spawned coroutines start and submit (or be refused).
        for (int i = 0; i < 50; ++i) co_await asio::post(ex, asio::use_awaitable);
        o.pending_at_peak = pool.pending();
        for (auto& f : blocked) {
          if (f.wait_for(0s) != std::future_status::ready) continue;
          try {
            f.get();
          } catch (const kit::errors::ServiceUnavailable& e) {
            ++o.rejected;
            o.rejected_ok = o.rejected_ok && e.status() == 503 && !e.headers().empty() &&
                            e.headers()[0].first == "Retry-After";
          }
        }
        // A further call is refused right away, without waiting for the queue.
        try {
          co_await pool.run([] { return 0; });
        } catch (const kit::errors::ServiceUnavailable&) {
          ++o.rejected;
        }
        gate.set_value();
        for (auto& f : blocked) {
          if (f.valid()) {
            while (f.wait_for(0s) != std::future_status::ready) {
              co_await asio::post(ex, asio::use_awaitable);
            }
            f.get();
            ++o.accepted;
          }
        }
        co_return o;
      },
      asio::use_future);
  io.run();
  io.restart();
  const Outcome o = outcome.get();
  EXPECT_TRUE(o.rejected_ok);
  EXPECT_GE(o.accepted, static_cast<int>(kMaxQueue));
  EXPECT_LE(o.accepted, static_cast<int>(kThreads + kMaxQueue));
  EXPECT_EQ(o.accepted + o.rejected, 6);
  EXPECT_LE(o.pending_at_peak, kThreads + kMaxQueue);
  EXPECT_EQ(pool.pending(), 0u);
  // Capacity is back once the queue drained.
  EXPECT_EQ(run_coroutine(io, pool.run([] { return 9; })), 9);
}

// A job whose deadline passes while it waits for the worker is dropped: its function never
// runs, the caller gets DeadlineExceeded (a 503), and the jobs around it are unaffected.
TEST(WorkerPool, AJobPastItsDeadlineWhenAWorkerTakesItIsNotRun) {
  asio::io_context io;
  WorkerPool pool(1, 16);
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::atomic<int> ran_late{0};
  std::atomic<int> ran_free{0};

  struct Outcome {
    bool blocker_done = false;
    bool late_dropped = false;
    bool late_is_503 = false;
    bool in_time_ran = false;
    bool undated_ran = false;
  };
  auto outcome = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<Outcome> {
        Outcome o;
        const auto ex = co_await asio::this_coro::executor;
        auto blocker = asio::co_spawn(ex, pool.run([open] { open.wait(); }), asio::use_future);
        auto late = asio::co_spawn(
            ex, pool.run([&ran_late] { ++ran_late; }, kit::async::Deadline::after(20ms)),
            asio::use_future);
        auto in_time = asio::co_spawn(
            ex, pool.run([] { return 7; }, kit::async::Deadline::after(1h)), asio::use_future);
        auto undated = asio::co_spawn(ex, pool.run([&ran_free] { ++ran_free; }), asio::use_future);
        for (int i = 0; i < 50; ++i) co_await asio::post(ex, asio::use_awaitable);
        std::this_thread::sleep_for(60ms);  // the late job's deadline passes while it waits
        gate.set_value();
        for (auto* f : {&blocker, &late, &undated}) {
          while (f->wait_for(0s) != std::future_status::ready) {
            co_await asio::post(ex, asio::use_awaitable);
          }
        }
        while (in_time.wait_for(0s) != std::future_status::ready) {
          co_await asio::post(ex, asio::use_awaitable);
        }
        blocker.get();
        o.blocker_done = true;
        try {
          late.get();
        } catch (const kit::async::DeadlineExceeded& e) {
          o.late_dropped = true;
          o.late_is_503 = e.status() == 503;
        }
        o.in_time_ran = in_time.get() == 7;
        undated.get();
        o.undated_ran = true;
        co_return o;
      },
      asio::use_future);
  io.run();
  const Outcome o = outcome.get();
  EXPECT_TRUE(o.blocker_done);
  EXPECT_TRUE(o.late_dropped);
  EXPECT_TRUE(o.late_is_503);
  EXPECT_EQ(ran_late.load(), 0);
  EXPECT_TRUE(o.in_time_ran);
  EXPECT_TRUE(o.undated_ran);
  EXPECT_EQ(ran_free.load(), 1);
  EXPECT_EQ(pool.dropped_past_deadline(), 1u);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(Deadline, ADefaultDeadlineNeverPassesAndAPassedOneThrowsOnCheck) {
  const kit::async::Deadline none;
  EXPECT_FALSE(none.bounded());
  EXPECT_FALSE(none.passed());
  EXPECT_NO_THROW(none.check());
  const auto past = kit::async::Deadline(std::chrono::steady_clock::now() - 1ms);
  EXPECT_TRUE(past.bounded());
  EXPECT_TRUE(past.passed());
  EXPECT_THROW(past.check(), kit::async::DeadlineExceeded);
  EXPECT_FALSE(kit::async::Deadline::after(1h).passed());
}

}  // namespace
