#pragma once
// The Redis backend (REDIS_URL set): every replica shares one budget per key. One atomic Lua
// script per decision runs the same GCRA step as the in-process backend, with the server's
// clock (redis.call('TIME')) so replicas with skewed clocks agree. Keys: "rl:<policy>:<key>",
// expiring when the bucket is full again.
//
// Redis unreachable or too slow (the client bounds every command): with `fail_open` the request
// is allowed, counted in fail_open_total(), and a warning is logged at most once per
// `warn_interval`; without it, kit::errors::ServiceUnavailable (503 + Retry-After). Never a
// 500, never a hang.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "kit/ratelimit/limiter.hpp"
#include "kit/redis/client.hpp"

namespace kit::ratelimit {

struct RedisLimiterOptions {
  bool fail_open = true;
  std::chrono::milliseconds warn_interval{60'000};
  std::string key_prefix = "rl:";
};

class RedisLimiter final : public Limiter {
 public:
  RedisLimiter(std::shared_ptr<redis::Client> client, RedisLimiterOptions options = {});

  boost::asio::awaitable<Decision> hit(std::string key, const Policy& policy) override;

  std::uint64_t fail_open_total() const noexcept {
    return fail_open_total_.load(std::memory_order_relaxed);
  }
  std::uint64_t failures_total() const noexcept {
    return failures_total_.load(std::memory_order_relaxed);
  }

  static const redis::Script& script();  // the GCRA script (exposed for tests)

 private:
  Decision on_failure(const Policy& policy, std::string_view error);

  std::shared_ptr<redis::Client> client_;
  RedisLimiterOptions options_;
  std::atomic<std::uint64_t> fail_open_total_{0};
  std::atomic<std::uint64_t> failures_total_{0};
  std::atomic<std::int64_t> last_warning_us_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace kit::ratelimit
