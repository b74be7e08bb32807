#include "kit/security/verified_tokens.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using kit::security::TokenClaims;
using kit::security::VerifiedTokens;

TokenClaims claims_for(const std::string& sub) {
  return TokenClaims{.sub = sub, .iat = 1, .exp = 2, .iss = "i", .aud = "a", .jti = "j"};
}

TEST(VerifiedTokens, FindsOnlyTheExactTokenItRemembered) {
  VerifiedTokens memory;
  memory.remember("aaa.bbb.ccc", claims_for("u1"));
  ASSERT_TRUE(memory.find("aaa.bbb.ccc").has_value());
  EXPECT_EQ(memory.find("aaa.bbb.ccc")->sub, "u1");
  EXPECT_FALSE(memory.find("aaa.bbb.ccd").has_value());
  EXPECT_FALSE(memory.find("aaa.bbb.cc").has_value());
  EXPECT_FALSE(memory.find("").has_value());
  memory.remember("aaa.bbb.ccc", claims_for("u2"));
  EXPECT_EQ(memory.find("aaa.bbb.ccc")->sub, "u2") << "the newer entry wins";
}

TEST(VerifiedTokens, StaysWithinItsBound) {
  VerifiedTokens memory;
  const std::size_t bound = VerifiedTokens::kShards * VerifiedTokens::kPerShard;
  for (std::size_t i = 0; i < bound * 3; ++i) {
    memory.remember("token-" + std::to_string(i), claims_for(std::to_string(i)));
  }
  std::size_t found = 0;
  for (std::size_t i = 0; i < bound * 3; ++i) {
    if (const auto c = memory.find("token-" + std::to_string(i))) {
      EXPECT_EQ(c->sub, std::to_string(i));
      ++found;
    }
  }
  EXPECT_LE(found, bound);
  EXPECT_GT(found, bound / 2) << "shards fill evenly enough";
}

// Run under ThreadSanitizer by scripts/tsan.sh (label tsan).
TEST(VerifiedTokens, ConcurrentRememberAndFindAreSafe) {
  VerifiedTokens memory;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&memory, &mismatches, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string token = "token-" + std::to_string((i * 7 + t) % 3000);
        memory.remember(token, claims_for(token));
        if (const auto c = memory.find(token); c && c->sub != token) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
