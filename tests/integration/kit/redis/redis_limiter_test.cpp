// The Redis rate-limit backend against a real Redis: the GCRA script's decisions match the
// in-process math, two clients (two replicas) share one budget, and an unreachable Redis fails
// open (allowed, counted) or closed (503) within the command timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "kit/errors/app_error.hpp"
#include "kit/ratelimit/redis_limiter.hpp"
#include "kit/util/uuid.hpp"
#include "tests/support/redis_server.hpp"

namespace {

namespace rl = kit::ratelimit;
using kit::redis::Client;
using kit::redis::ClientOptions;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

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

TEST(RedisLimiter, LeasesServeALargeBudgetWithFewScriptCalls) {
  redis_test::Loop loop;
  auto client =
      std::make_shared<Client>(loop.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter limiter(client, rl::RedisLimiterOptions{.lease_ttl = std::chrono::seconds{5}});
  // 100,000 per hour: leases of up to 1,000 cells (1%); one cell refills every 36 ms.
  const rl::Policy p{.name = "default", .limit = 100'000, .window = std::chrono::hours{1}};
  const std::string key = fresh_key();
  const auto start = Clock::now();
  for (std::uint32_t used = 1; used <= 3000; ++used) {
    const auto d = loop.run(limiter.hit(key, p));
    ASSERT_TRUE(d.allowed) << used;
    // The cells this replica holds count as remaining: it announces the shared budget, less
    // what was used, plus what refilled (seen when it next asks Redis).
    const auto refilled = static_cast<std::uint32_t>((Clock::now() - start) / 36ms) + 1;
    EXPECT_GE(d.remaining + 1, p.limit - used) << used;
    EXPECT_LE(d.remaining, p.limit - used + refilled) << used;
  }
  // 1+2+4+...+512 = 1023 cells in 10 calls, then 1,000 a call.
  EXPECT_LE(limiter.script_calls(), 13u);
}

TEST(RedisLimiter, TwoReplicasWithLeasesNeverExceedTheSharedBudget) {
  redis_test::Loop loop1;
  redis_test::Loop loop2;
  auto c1 = std::make_shared<Client>(loop1.executor(), ClientOptions{.url = redis_test::shared()});
  auto c2 = std::make_shared<Client>(loop2.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter replica1(c1);
  rl::RedisLimiter replica2(c2);
  // 400 per hour: leases of up to 4 cells, and no refill worth counting during the test.
  const rl::Policy p{.name = "default", .limit = 400, .window = std::chrono::hours{1}};
  const std::string key = fresh_key();
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    auto& loop = i % 2 == 0 ? loop1 : loop2;
    auto& limiter = i % 2 == 0 ? replica1 : replica2;
    if (loop.run(limiter.hit(key, p)).allowed) ++allowed;
  }
  EXPECT_LE(allowed, 401);      // never more than the budget (+1 cell per 9 s of refill)
  EXPECT_GE(allowed, 400 - 8);  // at most one lease (4 cells) held unused per replica
  EXPECT_LT(replica1.script_calls() + replica2.script_calls(), 1000u);
}

TEST(RedisLimiter, AnEndedLeaseHandsItsUnusedCellsBack) {
  redis_test::Loop loop;
  auto client =
      std::make_shared<Client>(loop.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter limiter(client,
                           rl::RedisLimiterOptions{.lease_ttl = std::chrono::milliseconds{200}});
  // 1,000 per hour: leases of up to 10 cells; one cell refills every 3.6 s.
  const rl::Policy p{.name = "default", .limit = 1000, .window = std::chrono::hours{1}};
  const std::string key = fresh_key();
  // Leases of 1, 2, 4, 8, 10, 10 cells: after 30 requests the last one still holds 5.
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(loop.run(limiter.hit(key, p)).allowed);
  std::this_thread::sleep_for(std::chrono::milliseconds{300});  // the lease ends
  const auto d = loop.run(limiter.hit(key, p));                 // hands them back
  ASSERT_TRUE(d.allowed);
  // Without the hand-back, the 5 cells would stay spent: 1000 - 31 - 5.
  EXPECT_GE(d.remaining, 1000u - 31u);
  EXPECT_LE(d.remaining, 1000u - 31u + 1u);
}

TEST(RedisLimiter, ARememberedDenialSparesRedis) {
  redis_test::Loop loop;
  auto client =
      std::make_shared<Client>(loop.executor(), ClientOptions{.url = redis_test::shared()});
  rl::RedisLimiter limiter(client);
  const rl::Policy p{.name = "default", .limit = 200, .window = std::chrono::hours{1}};
  const std::string key = fresh_key();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(loop.run(limiter.hit(key, p)).allowed) << i;
  const auto calls = limiter.script_calls();
  for (int i = 0; i < 50; ++i) {
    const auto d = loop.run(limiter.hit(key, p));
    ASSERT_FALSE(d.allowed) << i;
    EXPECT_GE(d.retry_after_seconds, 17u);  // one cell per 18 s
    EXPECT_LE(d.retry_after_seconds, 18u);
  }
  EXPECT_LE(limiter.script_calls() - calls, 1u);
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
