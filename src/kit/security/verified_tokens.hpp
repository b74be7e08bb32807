#pragma once
// Tokens already verified, so that a client presenting the same bearer token on every request
// pays the signature check once. An Ed25519 verification costs ~50 µs and a P-256 one ~65 µs
// (bench/jwt): without this, EdDSA and ES256 took 62% and 64% of `me`'s throughput. A whole
// HS256 verification, with its JSON parsing, is ~3.5 µs; a hit here is a hash, a lock and a
// comparison.
//
// What is remembered is "these exact bytes carry a valid signature and these claims"; the codec
// still checks expiry on every hit, and everything about the user (does it exist, is its session
// valid) is checked by the service as before. A hit compares the whole stored token with the
// presented one in constant time, so neither a hash collision nor timing can pass for a verified
// token. Only verified tokens are stored, so garbage cannot fill it. Bounded: kShards ×
// kPerShard entries (about 1 KiB each); a full shard drops an arbitrary entry. Thread-safe.
#include <array>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kit/security/jwt.hpp"

namespace kit::security {

class VerifiedTokens {
 public:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kPerShard = 256;

  // The claims stored with `token`, or nullopt.
  std::optional<TokenClaims> find(std::string_view token) const;
  void remember(std::string_view token, const TokenClaims& claims);

 private:
  struct Entry {
    std::string token;
    TokenClaims claims;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::size_t, Entry> entries;  // by std::hash of the token
  };

  std::array<Shard, kShards> shards_;
};

}  // namespace kit::security
