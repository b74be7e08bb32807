#include "kit/security/verified_tokens.hpp"

#include <functional>

#include "kit/security/constant_time.hpp"

namespace kit::security {

std::optional<TokenClaims> VerifiedTokens::find(std::string_view token) const {
  const std::size_t hash = std::hash<std::string_view>{}(token);
  const Shard& shard = shards_[hash % kShards];
  const std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(hash);
  if (it == shard.entries.end() || !constant_time_equal(it->second.token, token)) {
    return std::nullopt;
  }
  return it->second.claims;
}

void VerifiedTokens::remember(std::string_view token, const TokenClaims& claims) {
  const std::size_t hash = std::hash<std::string_view>{}(token);
  Shard& shard = shards_[hash % kShards];
  Entry entry{std::string(token), claims};
  const std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= kPerShard && !shard.entries.contains(hash)) {
    shard.entries.erase(shard.entries.begin());
  }
  shard.entries.insert_or_assign(hash, std::move(entry));
}

}  // namespace kit::security
