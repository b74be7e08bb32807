#pragma once
// The Redis backend (REDIS_URL set): every replica shares one budget per key. One atomic Lua
// script per decision runs the same GCRA step as the in-process backend, with the server's
// clock (redis.call('TIME')) so replicas with skewed clocks agree. Keys: "rl:<policy>:<key>",
// expiring when the bucket is full again.
//
// Leases (large budgets only). A round trip to Redis per request would cost more than the rest
// of a cheap request (measured: 44% of GET /users/me throughput). So for a policy whose
// limit is at least 2 * `lease_divisor`, the script may reserve several cells at once: up to
// limit / lease_divisor (1% of the budget by default, at most `max_lease`), granted only while
// the shared budget has them. This replica then serves them locally for at most `lease_ttl`;
// tokens left when a lease ends are handed back (the TAT moves back) with the next reservation
// of that key. The lease size adapts per key: it starts at 1, doubles while leases run out
// before they end and halves when they do not. A denial is remembered until the moment Redis
// named, so a flood of refused requests does not reach Redis either.
// What it guarantees: the shared budget is never exceeded (every cell is reserved in Redis
// before it is used); at worst each replica holds 1% of a key's budget unused for `lease_ttl`.
// Small budgets (the `auth` policy: 10 per minute) are decided by Redis on every request, exact.
//
// Redis unreachable or too slow (the client bounds every command): with `fail_open` the request
// is allowed, counted in fail_open_total(), and a warning is logged at most once per
// `warn_interval`; without it, kit::errors::ServiceUnavailable (503 + Retry-After). Never a
// 500, never a hang.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kit/ratelimit/limiter.hpp"
#include "kit/redis/client.hpp"

namespace kit::ratelimit {

struct RedisLimiterOptions {
  bool fail_open = true;
  std::chrono::milliseconds warn_interval{60'000};
  std::string key_prefix = "rl:";
  std::uint32_t lease_divisor = 100;  // a lease holds at most limit / lease_divisor cells
  std::uint32_t max_lease = 1000;
  std::chrono::milliseconds lease_ttl{250};
  std::size_t max_leases = 100'000;  // keys with a lease or a remembered denial, in total
};

class RedisLimiter final : public Limiter {
 public:
  RedisLimiter(std::shared_ptr<redis::Client> client, RedisLimiterOptions options = {});

  using Limiter::hit;
  boost::asio::awaitable<Decision> hit(std::string key, const Policy& policy,
                                       const kit::trace::Parent* parent) override;

  std::uint64_t fail_open_total() const noexcept {
    return fail_open_total_.load(std::memory_order_relaxed);
  }
  std::uint64_t failures_total() const noexcept {
    return failures_total_.load(std::memory_order_relaxed);
  }
  // Decisions that needed a script call (the others came from a lease or a remembered denial).
  std::uint64_t script_calls() const noexcept {
    return script_calls_.load(std::memory_order_relaxed);
  }

  static const redis::Script& script();  // the GCRA script (exposed for tests)

 private:
  // What this replica holds for one key: reserved cells not yet used, or a remembered denial.
  struct Lease {
    std::int64_t ends_us = 0;    // steady clock: tokens are usable until then
    std::uint32_t tokens = 0;    // reserved in Redis, not yet used
    std::int64_t remaining = 0;  // the shared budget's remaining when reserved (w/o tokens)
    std::int64_t tat_us = 0;     // steady clock: the key's TAT in Redis when reserved
    std::int64_t denied_until_us = 0;
    std::uint32_t size = 1;  // cells the last reservation asked for
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Lease> leases;
  };
  struct Reservation {
    std::uint32_t want = 1;
    std::uint32_t refund = 0;
  };

  std::uint32_t lease_limit(const Policy& policy) const noexcept;
  std::int64_t lease_ttl_us() const noexcept;
  static Decision allowed_from(const Lease& lease, const Policy& policy, std::int64_t now);
  Shard& shard_for(const std::string& full_key);
  // Under the shard's lock: a decision from the lease, or what to ask Redis for.
  bool take_local(Shard& shard, const std::string& full_key, const Policy& policy,
                  std::int64_t now_us, std::uint32_t max_lease, Decision& out,
                  Reservation& reservation);
  // Under the shard's lock: keeps what the script granted; the decision for this request.
  Decision store(Shard& shard, const std::string& full_key, const Policy& policy,
                 std::int64_t now_us, std::uint32_t want, std::int64_t granted,
                 std::int64_t remaining, std::int64_t reset_us, std::int64_t retry_us);
  Decision on_failure(const Policy& policy, std::string_view error);

  std::shared_ptr<redis::Client> client_;
  RedisLimiterOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> fail_open_total_{0};
  std::atomic<std::uint64_t> failures_total_{0};
  std::atomic<std::uint64_t> script_calls_{0};
  std::atomic<std::int64_t> last_warning_us_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace kit::ratelimit
