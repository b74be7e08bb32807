// kit::health::Registry: readiness checks run concurrently, each bounded by a timeout
// (docs/http-api.md, `GET /health/ready`).
#include "kit/health/registry.hpp"
#include "tests/support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <vector>

namespace {

namespace asio = boost::asio;
using kit::health::Check;
using kit::health::CheckFailed;
using kit::health::CheckResult;
using kit::health::Registry;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

asio::awaitable<void> sleep_for(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

Check passing(Clock::duration delay = {}) {
  return [delay]() -> asio::awaitable<void> {
    if (delay > Clock::duration::zero()) co_await sleep_for(delay);
  };
}

std::vector<CheckResult> run_all(const Registry& registry,
                                 std::chrono::milliseconds timeout = 1000ms) {
  return test_support::run_coroutine(registry.run(timeout));
}

TEST(HealthRegistry, NoChecksGiveNoResults) {
  Registry r;
  EXPECT_TRUE(r.empty());
  const auto started = Clock::now();
  EXPECT_TRUE(run_all(r).empty());
  EXPECT_LT(Clock::now() - started, 500ms);  // does not wait for the timeout
}

TEST(HealthRegistry, PassingAndFailingChecksInRegistrationOrder) {
  Registry r;
  r.add("database", passing(5ms));
  r.add("redis", []() -> asio::awaitable<void> {
    co_await sleep_for(1ms);
    throw CheckFailed("Redis unreachable");
  });
  r.add("cache", []() -> asio::awaitable<void> {
    throw std::runtime_error("password=hunter2 host=10.0.0.1");
    co_return;
  });
  r.add("instant", passing());
  r.add("odd", []() -> asio::awaitable<void> {
    throw 7;
    co_return;
  });
  EXPECT_FALSE(r.empty());
  const auto results = run_all(r);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].name, "database");
  EXPECT_TRUE(results[0].ok);
  EXPECT_EQ(results[0].message, "");
  EXPECT_GE(results[0].duration_ms, 4.0);
  EXPECT_EQ(results[1].name, "redis");
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].message, "Redis unreachable");
  EXPECT_EQ(results[2].name, "cache");
  EXPECT_FALSE(results[2].ok);
  EXPECT_EQ(results[2].message, "check failed");  // never the internal detail
  EXPECT_EQ(results[3].name, "instant");
  EXPECT_TRUE(results[3].ok);
  EXPECT_GE(results[3].duration_ms, 0.0);
  EXPECT_EQ(results[4].name, "odd");
  EXPECT_FALSE(results[4].ok);
  EXPECT_EQ(results[4].message, "check failed");
}

TEST(HealthRegistry, AHangingCheckTimesOutWhileOthersReportNormally) {
  asio::io_context io;
  // The hanging check waits on a timer the test owns, so the test can release it afterwards and
  // prove a late finish does not overwrite the "timed out" result.
  auto hang = std::make_shared<asio::steady_timer>(io, 1h);
  Registry r;
  r.add("fast", passing(10ms));
  r.add("hangs",
        [hang]() -> asio::awaitable<void> { co_await hang->async_wait(asio::use_awaitable); });
  r.add("fails", []() -> asio::awaitable<void> {
    co_await sleep_for(20ms);
    throw CheckFailed("down");
  });
  const auto started = Clock::now();
  auto fut = asio::co_spawn(io, r.run(150ms), asio::use_future);
  while (fut.wait_for(0s) != std::future_status::ready) io.run_one();
  const auto elapsed = Clock::now() - started;
  const auto results = fut.get();
  EXPECT_GE(elapsed, 140ms);
  EXPECT_LT(elapsed, 1000ms);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok);
  EXPECT_LT(results[0].duration_ms, 140.0);
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].message, "timed out");
  EXPECT_DOUBLE_EQ(results[1].duration_ms, 150.0);
  EXPECT_FALSE(results[2].ok);
  EXPECT_EQ(results[2].message, "down");
  EXPECT_LT(results[2].duration_ms, 140.0);

  // Let the abandoned check finish late; nothing may crash and the results stay as reported.
  hang->cancel();
  io.run();
  EXPECT_EQ(results[1].message, "timed out");
}

TEST(HealthRegistry, ChecksRunConcurrently) {
  Registry r;
  struct Span {
    Clock::time_point start, end;
  };
  auto spans = std::make_shared<std::vector<Span>>(2);
  for (std::size_t i = 0; i < 2; ++i) {
    r.add("slow" + std::to_string(i), [spans, i]() -> asio::awaitable<void> {
      (*spans)[i].start = Clock::now();
      co_await sleep_for(200ms);
      (*spans)[i].end = Clock::now();
    });
  }
  const auto started = Clock::now();
  const auto results = run_all(r, 2000ms);
  const auto elapsed = Clock::now() - started;
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok);
  EXPECT_TRUE(results[1].ok);
  // Overlap: each check started before the other one ended.
  EXPECT_LT((*spans)[1].start, (*spans)[0].end);
  EXPECT_LT((*spans)[0].start, (*spans)[1].end);
  EXPECT_GE(elapsed, 195ms);
  EXPECT_LT(elapsed, 390ms) << "checks ran one after the other";
  EXPECT_GE(results[0].duration_ms, 195.0);
  EXPECT_GE(results[1].duration_ms, 195.0);
}

TEST(HealthRegistry, CanRunRepeatedly) {
  Registry r;
  r.add("a", passing());
  for (int i = 0; i < 3; ++i) {
    const auto results = run_all(r);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_TRUE(results[0].ok);
  }
}

}  // namespace
