#pragma once
// The in-process backend (REDIS_URL empty): per-replica budgets in a bounded table.
//
// Memory is bounded by `capacity` keys in total, split over `shards` tables each behind its
// own mutex (so I/O threads rarely contend). Each shard is an LRU list: a full shard first
// drops its least recently used key when that key's bucket is already full again (expired:
// forgetting it changes nothing), else it still drops it (counted in evictions(): that client
// gets a fresh budget — the price of a bound; size `capacity` above the active client count).
#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kit/ratelimit/limiter.hpp"

namespace kit::ratelimit {

struct MemoryLimiterOptions {
  std::size_t capacity = 100'000;  // keys kept in total, over all policies
  std::size_t shards = 16;
};

class MemoryLimiter final : public Limiter {
 public:
  explicit MemoryLimiter(MemoryLimiterOptions options = {});

  using Limiter::hit;
  boost::asio::awaitable<Decision> hit(std::string key, const Policy& policy,
                                       const kit::trace::Parent* parent) override;

  // The synchronous decision (what hit() does); `now_us` on the steady clock. For tests.
  Decision hit_at(std::string_view key, const Policy& policy, std::int64_t now_us);

  std::size_t size() const;  // keys stored now
  std::size_t capacity() const noexcept { return per_shard_ * shards_.size(); }
  std::uint64_t evictions() const noexcept { return evictions_.load(std::memory_order_relaxed); }

 private:
  struct Shard {
    using Lru = std::list<std::pair<std::string, std::int64_t>>;  // key → TAT, newest first
    mutable std::mutex mu;
    Lru lru;
    std::unordered_map<std::string_view, Lru::iterator> index;  // views into lru's keys
  };

  std::vector<std::unique_ptr<Shard>> shards_;
  std::size_t per_shard_;
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace kit::ratelimit
