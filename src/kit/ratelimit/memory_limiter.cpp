#include "kit/ratelimit/memory_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

namespace kit::ratelimit {

MemoryLimiter::MemoryLimiter(MemoryLimiterOptions options) {
  const std::size_t shards = std::max<std::size_t>(options.shards, 1);
  per_shard_ = std::max<std::size_t>(options.capacity / shards, 1);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->index.reserve(per_shard_);
  }
}

boost::asio::awaitable<Decision> MemoryLimiter::hit(std::string key, const Policy& policy,
                                                    const kit::trace::Parent* /*parent*/) {
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  co_return hit_at(key, policy, now);
}

Decision MemoryLimiter::hit_at(std::string_view key, const Policy& policy, std::int64_t now_us) {
  // One table for all policies: the policy name is part of the key.
  std::string full;
  const std::string bounded = bounded_key(key);
  full.reserve(policy.name.size() + 1 + bounded.size());
  full.append(policy.name).append(1, '\0').append(bounded);

  Shard& shard = *shards_[std::hash<std::string>{}(full) % shards_.size()];
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(full);
  if (it != shard.index.end()) {
    auto node = it->second;
    const GcraResult r = gcra(now_us, node->second, policy);
    node->second = r.new_tat;
    shard.lru.splice(shard.lru.begin(), shard.lru, node);
    return r.decision;
  }
  const GcraResult r = gcra(now_us, 0, policy);
  if (shard.lru.size() >= per_shard_) {
    auto& oldest = shard.lru.back();
    if (oldest.second > now_us) evictions_.fetch_add(1, std::memory_order_relaxed);
    shard.index.erase(oldest.first);
    shard.lru.pop_back();
  }
  shard.lru.emplace_front(std::move(full), r.new_tat);
  shard.index.emplace(shard.lru.front().first, shard.lru.begin());
  return r.decision;
}

std::size_t MemoryLimiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->lru.size();
  }
  return n;
}

}  // namespace kit::ratelimit
