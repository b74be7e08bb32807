// The rate limiter's math (GCRA), the in-process backend's memory bound and thread safety, the
// RateLimit header fields, the auth Guard, and the `default` policy middleware in a pipeline.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>
#include <thread>
#include <vector>

#include "kit/errors/app_error.hpp"
#include "kit/http/pipeline.hpp"
#include "kit/http/response.hpp"
#include "kit/http/router.hpp"
#include "kit/middleware/error_mapping.hpp"
#include "kit/middleware/rate_limit.hpp"
#include "kit/ratelimit/guard.hpp"
#include "kit/ratelimit/memory_limiter.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
namespace rl = kit::ratelimit;
using namespace kit::http;  // the types under test

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kT0 = 1'000 * kSecond;

rl::Policy policy(std::uint32_t limit, std::string name = "default") {
  return rl::Policy{.name = std::move(name), .limit = limit, .window = std::chrono::seconds{60}};
}

using test_support::run_coroutine;

TEST(Gcra, AllowsExactlyLimitInABurstThenDenies) {
  const auto p = policy(3);
  std::int64_t tat = 0;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const auto r = rl::gcra(kT0, tat, p);
    EXPECT_TRUE(r.decision.allowed) << i;
    EXPECT_EQ(r.decision.remaining, 2 - i);
    EXPECT_EQ(r.decision.limit, 3u);
    EXPECT_EQ(r.decision.reset_seconds, 20 * (i + 1));  // the whole budget back
    tat = r.new_tat;
  }
  const auto denied = rl::gcra(kT0, tat, p);
  EXPECT_FALSE(denied.decision.allowed);
  EXPECT_EQ(denied.decision.remaining, 0u);
  EXPECT_EQ(denied.decision.retry_after_seconds, 20u);  // one interval (60 s / 3)
  EXPECT_GE(denied.decision.retry_after_seconds, denied.decision.reset_seconds);
  EXPECT_EQ(denied.new_tat, tat);  // a denied request costs nothing
}

TEST(Gcra, RefillsContinuously) {
  const auto p = policy(600);  // one per 100 ms
  std::int64_t tat = 0;
  for (int i = 0; i < 600; ++i) tat = rl::gcra(kT0, tat, p).new_tat;
  EXPECT_FALSE(rl::gcra(kT0, tat, p).decision.allowed);
  EXPECT_FALSE(rl::gcra(kT0 + 99'000, tat, p).decision.allowed);
  const auto later = rl::gcra(kT0 + 100'000, tat, p);
  EXPECT_TRUE(later.decision.allowed);
  EXPECT_EQ(later.decision.remaining, 0u);
  // After a full window of silence the whole budget is back.
  const auto fresh = rl::gcra(kT0 + 61 * kSecond, tat, p);
  EXPECT_TRUE(fresh.decision.allowed);
  EXPECT_EQ(fresh.decision.remaining, 599u);
}

TEST(Gcra, RetryAfterIsAtLeastOneSecond) {
  const auto p = policy(1'000'000);  // interval 60 µs
  std::int64_t tat = 0;
  for (int i = 0; i < 1'000'000; ++i) tat = rl::gcra(kT0, tat, p).new_tat;
  const auto d = rl::gcra(kT0, tat, p).decision;
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1u);
  EXPECT_EQ(d.reset_seconds, 1u);
}

TEST(BoundedKey, LongKeysAreHashedAndStayDistinct) {
  EXPECT_EQ(rl::bounded_key("10.0.0.1"), "10.0.0.1");
  const std::string a(5000, 'a');
  std::string b = a;
  b.back() = 'b';
  EXPECT_LE(rl::bounded_key(a).size(), rl::kMaxKeyBytes);
  EXPECT_NE(rl::bounded_key(a), rl::bounded_key(b));
  EXPECT_EQ(rl::bounded_key(a), rl::bounded_key(a));
}

TEST(MemoryLimiter, CountsPerKeyAndPerPolicy) {
  rl::MemoryLimiter limiter;
  const auto p = policy(2);
  const auto auth = policy(2, "auth");
  EXPECT_TRUE(limiter.hit_at("1.1.1.1", p, kT0).allowed);
  EXPECT_TRUE(limiter.hit_at("1.1.1.1", p, kT0).allowed);
  EXPECT_FALSE(limiter.hit_at("1.1.1.1", p, kT0).allowed);
  EXPECT_TRUE(limiter.hit_at("2.2.2.2", p, kT0).allowed);                 // another client
  EXPECT_TRUE(limiter.hit_at("1.1.1.1", auth, kT0).allowed);              // another policy
  EXPECT_TRUE(limiter.hit_at("1.1.1.1", p, kT0 + 30 * kSecond).allowed);  // refilled one
  EXPECT_EQ(limiter.size(), 3u);
}

TEST(MemoryLimiter, MemoryIsBoundedByCapacity) {
  rl::MemoryLimiter limiter(rl::MemoryLimiterOptions{.capacity = 1000, .shards = 4});
  const auto p = policy(10);
  for (int i = 0; i < 100'000; ++i) {
    limiter.hit_at("10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
                       std::to_string(i % 256),
                   p, kT0 + i);
  }
  EXPECT_LE(limiter.size(), limiter.capacity());
  EXPECT_EQ(limiter.capacity(), 1000u);
  EXPECT_GT(limiter.evictions(), 0u);  // active buckets had to go: counted
}

TEST(MemoryLimiter, EvictsTheLeastRecentlyUsedKey) {
  rl::MemoryLimiter limiter(rl::MemoryLimiterOptions{.capacity = 2, .shards = 1});
  const auto p = policy(1);
  EXPECT_TRUE(limiter.hit_at("a", p, kT0).allowed);
  EXPECT_TRUE(limiter.hit_at("b", p, kT0).allowed);
  EXPECT_FALSE(limiter.hit_at("a", p, kT0).allowed);  // touches a: b is now the oldest
  EXPECT_TRUE(limiter.hit_at("c", p, kT0).allowed);   // evicts b
  EXPECT_FALSE(limiter.hit_at("a", p, kT0).allowed);  // a survived with its state
  EXPECT_EQ(limiter.size(), 2u);
  // Expired buckets are dropped without counting as an eviction of live state.
  rl::MemoryLimiter quiet(rl::MemoryLimiterOptions{.capacity = 1, .shards = 1});
  EXPECT_TRUE(quiet.hit_at("a", p, kT0).allowed);
  EXPECT_TRUE(quiet.hit_at("b", p, kT0 + 120 * kSecond).allowed);
  EXPECT_EQ(quiet.evictions(), 0u);
}

TEST(MemoryLimiter, IsSafeFromManyThreads) {
  rl::MemoryLimiter limiter(rl::MemoryLimiterOptions{.capacity = 10'000, .shards = 16});
  const auto p = policy(1000);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.hit_at("shared", p, kT0).allowed) allowed.fetch_add(1);
        limiter.hit_at("k" + std::to_string(i), p, kT0);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);  // exactly the budget, no lost update
}

TEST(RateLimitHeaders, FollowTheIetfDraftForm) {
  const auto p = policy(600);
  const rl::Decision d{.allowed = true, .limit = 600, .remaining = 599, .reset_seconds = 1};
  EXPECT_EQ(rl::policy_header(p), R"("default";q=600;w=60)");
  EXPECT_EQ(rl::status_header(p, d), R"("default";r=599;t=1)");
}

TEST(Guard, ThrowsRateLimitedWithRetryAfterAndFields) {
  rl::Guard guard(std::make_shared<rl::MemoryLimiter>(), policy(1, "auth"));
  EXPECT_TRUE(run_coroutine(guard.check("user:a@example.com")).allowed);
  try {
    run_coroutine(guard.check("user:a@example.com"));
    FAIL() << "expected RateLimited";
  } catch (const kit::errors::AppError& e) {
    EXPECT_EQ(e.status(), 429u);
    std::map<std::string, std::string> h(e.headers().begin(), e.headers().end());
    EXPECT_EQ(h["Retry-After"], "60");
    EXPECT_EQ(h["RateLimit-Policy"], R"("auth";q=1;w=60)");
    EXPECT_EQ(h["RateLimit"], R"("auth";r=0;t=60)");
  }
  rl::Guard disabled(nullptr, policy(1, "auth"));
  EXPECT_TRUE(run_coroutine(disabled.check("x")).allowed);
  EXPECT_TRUE(run_coroutine(disabled.check("x")).allowed);
  Response res;
  disabled.apply_headers(res, rl::Decision{});
  EXPECT_EQ(res.find("RateLimit"), res.end());
  EXPECT_EQ(
      rl::Guard::stricter(rl::Decision{.remaining = 3}, rl::Decision{.remaining = 1}).remaining,
      1u);
}

// The middleware in a pipeline: ErrorMapping → RateLimit → router.
struct LimitedPipeline {
  explicit LimitedPipeline(std::uint32_t limit) {
    const kit::http::Handler ok = [](Request&, RequestContext&) -> asio::awaitable<Response> {
      co_return kit::http::json_response(kit::http::Status::ok, "{}");
    };
    router.add(Verb::get, "/api/v1/things", ok);
    kit::http::RouteInfo health;
    health.rate_limited = false;
    router.add(Verb::get, "/health/live", ok, health);
    pipeline.use(std::make_shared<kit::middleware::ErrorMapping>())
        .use(std::make_shared<kit::middleware::RateLimit>(std::make_shared<rl::MemoryLimiter>(),
                                                          policy(limit)));
    terminal = [this](Request& req, RequestContext& ctx) { return router.dispatch(req, ctx); };
  }
  Response get(const std::string& target, const std::string& ip = "192.0.2.1") {
    Request req{Verb::get, target, 11};
    RequestContext ctx;
    ctx.client_ip = ip;
    router.find(req.method(), kit::http::target_path(req.target()), ctx);  // as the server does
    return run_coroutine(pipeline.handle(req, ctx, terminal));
  }
  kit::http::Router router;
  kit::http::Pipeline pipeline;
  kit::http::Handler terminal;
};

TEST(RateLimitMiddleware, AddsFieldsThenAnswers429WithRetryAfter) {
  LimitedPipeline app(2);
  auto first = app.get("/api/v1/things");
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first["RateLimit-Policy"], R"("default";q=2;w=60)");
  EXPECT_EQ(first["RateLimit"], R"("default";r=1;t=30)");
  EXPECT_EQ(app.get("/api/v1/things").result_int(), 200);
  auto limited = app.get("/api/v1/things");
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_EQ(limited["Retry-After"], "30");
  EXPECT_EQ(limited["RateLimit"], R"("default";r=0;t=30)");
  EXPECT_NE(limited.body().find(R"("error":"RATE_LIMITED")"), std::string::npos);
  // Another client has its own budget.
  EXPECT_EQ(app.get("/api/v1/things", "192.0.2.2").result_int(), 200);
}

TEST(RateLimitMiddleware, HealthIsNeverLimitedButUnknownPathsCount) {
  LimitedPipeline app(1);
  for (int i = 0; i < 5; ++i) {
    auto res = app.get("/health/live");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.find("RateLimit"), res.end());
  }
  auto missing = app.get("/nope");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_EQ(missing["RateLimit"], R"("default";r=0;t=60)");  // error responses carry the fields
  EXPECT_EQ(app.get("/nope").result_int(), 429);
  EXPECT_EQ(app.get("/api/v1/things").result_int(), 429);  // one budget per client
}

}  // namespace
