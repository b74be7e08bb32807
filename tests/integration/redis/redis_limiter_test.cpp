// The Redis rate-limit backend against a real Redis: the GCRA script's decisions match the
// in-process math, two clients (two replicas) share one budget, and an unreachable Redis fails
// open (allowed, counted) or closed (503) within the command timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "kit/errors/app_error.hpp"
#include "kit/ratelimit/redis_limiter.hpp"
#include "kit/util/uuid.hpp"
#include "redis_test_support.hpp"

namespace {

namespace rl = kit::ratelimit;
using kit::redis::Client;
using kit::redis::ClientOptions;
using Clock = std::chrono::steady_clock;

rl::Policy policy(std::uint32_t limit, std::string name = "default") {
  return rl::Policy{.name = std::move(name), .limit = limit, .window = std::chrono::seconds{60}};
}

// A key no other test (or earlier run) used.
std::string fresh_key() {
  return "it-" + kit::util::uuid_v4();
}

TEST(RedisLimiter, AllowsLimitThenDeniesWithRetryAfter) {
  redis_test::Loop loop;
  auto client =
      std::make_shared<Client>(loop.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter limiter(client);
  const auto p = policy(3);
  const std::string key = fresh_key();
  for (std::uint32_t i = 0; i < 3; ++i) {
    const auto d = loop.run(limiter.hit(key, p));
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 3u);
    EXPECT_EQ(d.remaining, 2 - i);
    EXPECT_GE(d.reset_seconds, 20 * (i + 1) - 1);
    EXPECT_LE(d.reset_seconds, 20 * (i + 1));
  }
  const auto denied = loop.run(limiter.hit(key, p));
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0u);
  EXPECT_GE(denied.retry_after_seconds, 19u);
  EXPECT_LE(denied.retry_after_seconds, 20u);
  EXPECT_GE(denied.retry_after_seconds, denied.reset_seconds);
  // Other keys and policies are independent.
  EXPECT_TRUE(loop.run(limiter.hit(key, policy(3, "auth"))).allowed);
  EXPECT_TRUE(loop.run(limiter.hit(fresh_key(), p)).allowed);
  EXPECT_EQ(limiter.failures_total(), 0u);
}

TEST(RedisLimiter, TheBucketExpiresInRedis) {
  redis_test::Loop loop;
  auto client =
      std::make_shared<Client>(loop.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter limiter(client);
  const std::string key = fresh_key();
  loop.run(limiter.hit(key, policy(600)));
  std::vector<std::string> pttl;
  pttl.emplace_back("PTTL");
  pttl.push_back("rl:default:" + key);
  const auto ttl = loop.run(client->command(std::move(pttl)));
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 1000);  // one interval (100 ms) + 1 ms: no key outlives its bucket
}

TEST(RedisLimiter, TwoReplicasShareOneBudget) {
  redis_test::Loop loop_a;
  redis_test::Loop loop_b;
  auto client_a =
      std::make_shared<Client>(loop_a.executor(), ClientOptions{.url = redis_test::shared()});
  auto client_b =
      std::make_shared<Client>(loop_b.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter a(client_a);
  rl::RedisLimiter b(client_b);
  const auto p = policy(4, "auth");
  const std::string key = "user:" + fresh_key();
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    auto& limiter = i % 2 == 0 ? a : b;
    auto& loop = i % 2 == 0 ? loop_a : loop_b;
    if (loop.run(limiter.hit(key, p)).allowed) ++allowed;
  }
  EXPECT_EQ(allowed, 4);
}

TEST(RedisLimiter, ScriptSurvivesAScriptFlush) {
  redis_test::Loop loop;
  auto client =
      std::make_shared<Client>(loop.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter limiter(client);
  EXPECT_TRUE(loop.run(limiter.hit(fresh_key(), policy(5))).allowed);
  std::vector<std::string> flush;
  flush.emplace_back("SCRIPT");
  flush.emplace_back("FLUSH");
  loop.run(client->command(std::move(flush)));
  EXPECT_TRUE(loop.run(limiter.hit(fresh_key(), policy(5))).allowed);
  EXPECT_EQ(limiter.failures_total(), 0u);
}

TEST(RedisLimiter, UnreachableRedisFailsOpenAndCounts) {
  redis_test::Loop loop;
  auto url = redis_test::shared();
  url.port = 1;
  auto client = std::make_shared<Client>(loop.executor(), ClientOptions{.url = url});
  rl::RedisLimiter limiter(client, rl::RedisLimiterOptions{.fail_open = true});
  const auto t0 = Clock::now();
  for (int i = 0; i < 20; ++i) {
    const auto d = loop.run(limiter.hit("1.2.3.4", policy(1)));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 1u);
  }
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds{2});
  EXPECT_EQ(limiter.fail_open_total(), 20u);
}

TEST(RedisLimiter, UnreachableRedisFailsClosedWith503) {
  redis_test::Loop loop;
  auto url = redis_test::shared();
  url.port = 1;
  auto client = std::make_shared<Client>(loop.executor(), ClientOptions{.url = url});
  rl::RedisLimiter limiter(client, rl::RedisLimiterOptions{.fail_open = false});
  try {
    loop.run(limiter.hit("1.2.3.4", policy(1)));
    FAIL() << "expected ServiceUnavailable";
  } catch (const kit::errors::AppError& e) {
    EXPECT_EQ(e.status(), 503u);
    EXPECT_EQ(e.code(), "SERVICE_UNAVAILABLE");
  }
  EXPECT_EQ(limiter.fail_open_total(), 0u);
  EXPECT_EQ(limiter.failures_total(), 1u);
}

TEST(RedisLimiter, HaltedRedisFailsOpenThenRecovers) {
  redis_test::PrivateServer server;
  redis_test::Loop loop;
  auto client = std::make_shared<Client>(
      loop.executor(), ClientOptions{.url = server.parsed(),
                                     .reconnect_initial_backoff = std::chrono::milliseconds{50},
                                     .reconnect_max_backoff = std::chrono::milliseconds{200}});
  rl::RedisLimiter limiter(client);
  const auto p = policy(1);
  const std::string key = fresh_key();
  EXPECT_TRUE(loop.run(limiter.hit(key, p)).allowed);
  EXPECT_FALSE(loop.run(limiter.hit(key, p)).allowed);
  server.halt();
  EXPECT_TRUE(loop.run(limiter.hit(key, p)).allowed);  // fail open
  EXPECT_GE(limiter.fail_open_total(), 1u);
  server.resume();  // data is not persisted: the bucket starts empty again
  bool enforced = false;
  for (int i = 0; i < 50 && !enforced; ++i) {
    const auto before = limiter.fail_open_total();
    const auto d = loop.run(limiter.hit(key, p));
    enforced = !d.allowed || limiter.fail_open_total() == before;
    if (!enforced) std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  EXPECT_TRUE(enforced);
}

}  // namespace
