// The argon2id engine against libsodium's crypto_pwhash (the reference here: it is argon2id
// 1.3 as RFC 9106 specifies it), on every compression this CPU can run, and its PHC strings
// against libsodium's.
#include "kit/security/argon2id.hpp"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sodium.h>

#include "kit/security/argon2id_block.hpp"

namespace {

using kit::security::argon2id::Compression;
using kit::security::argon2id::derive;
using kit::security::argon2id::format_phc;
using kit::security::argon2id::Params;
using kit::security::argon2id::parse_phc;
using kit::security::argon2id::supported;

std::vector<std::uint8_t> libsodium_tag(const Params& params, const std::string& password,
                                        const std::array<std::uint8_t, 16>& salt,
                                        std::size_t tag_bytes) {
  std::vector<std::uint8_t> tag(tag_bytes);
  EXPECT_EQ(crypto_pwhash(tag.data(), tag.size(), password.data(), password.size(), salt.data(),
                          params.iterations, std::size_t{params.memory_kib} * 1024,
                          crypto_pwhash_ALG_ARGON2ID13),
            0);
  return tag;
}

std::vector<Compression> runnable() {
  std::vector<Compression> all{Compression::automatic, Compression::portable};
  if (supported(Compression::avx2)) all.push_back(Compression::avx2);
  return all;
}

class Argon2idTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

// Memory sizes that are and are not multiples of 4 blocks (m' = 4 * floor(m / 4)), one and
// more segments of address blocks (128 blocks), one to three passes, tag lengths 16 to 64.
TEST_F(Argon2idTest, EqualsLibsodiumOnEveryCompression) {
  int cases = 0;
  for (const Compression compression : runnable()) {
    for (const std::uint32_t memory : {8U, 9U, 15U, 64U, 513U, 2048U}) {
      for (const std::uint32_t iterations : {1U, 2U, 3U}) {
        for (const std::size_t tag_bytes : {16U, 32U, 64U}) {
          std::array<std::uint8_t, 16> salt{};
          randombytes_buf(salt.data(), salt.size());
          const std::string password = "pw-" + std::to_string(cases);
          const Params params{.memory_kib = memory, .iterations = iterations};
          std::vector<std::uint8_t> ours(tag_bytes);
          derive(params, password, salt, ours, compression);
          EXPECT_EQ(ours, libsodium_tag(params, password, salt, tag_bytes))
              << "compression " << static_cast<int>(compression) << " m=" << memory
              << " t=" << iterations << " tag " << tag_bytes;
          ++cases;
        }
      }
    }
  }
  EXPECT_GE(cases, 108);
}

// The production cost, with a password that has a NUL byte, an empty one and a long one.
TEST_F(Argon2idTest, EqualsLibsodiumAtTheDefaultCostForAnyPassword) {
  for (const std::string& password :
       {std::string("correct horse battery staple"), std::string("pass\0word", 9), std::string(),
        std::string(4096, 'x')}) {
    std::array<std::uint8_t, 16> salt{};
    randombytes_buf(salt.data(), salt.size());
    std::vector<std::uint8_t> ours(32);
    derive(Params{}, password, salt, ours);
    EXPECT_EQ(ours, libsodium_tag(Params{}, password, salt, 32)) << password.size();
  }
}

// The same thread runs a larger and then a smaller cost in its reused area, and back: nothing
// of one hash leaks into the next.
TEST_F(Argon2idTest, TheReusedAreaGivesTheSameTagsInAnyOrder) {
  std::array<std::uint8_t, 16> salt{};
  randombytes_buf(salt.data(), salt.size());
  const Params small{.memory_kib = 64, .iterations = 1};
  const Params large{.memory_kib = 4096, .iterations = 2};
  std::vector<std::uint8_t> first(32), again(32), other(32);
  derive(small, "secret", salt, first);
  derive(large, "secret", salt, other);
  derive(small, "secret", salt, again);
  EXPECT_EQ(first, again);
  EXPECT_EQ(other, libsodium_tag(large, "secret", salt, 32));
}

TEST_F(Argon2idTest, RefusesParametersOutsideTheSupportedRanges) {
  std::array<std::uint8_t, 16> salt{};
  std::array<std::uint8_t, 7> short_salt{};
  std::vector<std::uint8_t> tag(32), short_tag(15), long_tag(65);
  EXPECT_THROW(derive({.memory_kib = 7, .iterations = 1}, "p", salt, tag), std::invalid_argument);
  EXPECT_THROW(derive({.memory_kib = 8, .iterations = 0}, "p", salt, tag), std::invalid_argument);
  EXPECT_THROW(derive({.memory_kib = 8, .iterations = 1}, "p", short_salt, tag),
               std::invalid_argument);
  EXPECT_THROW(derive({.memory_kib = 8, .iterations = 1}, "p", salt, short_tag),
               std::invalid_argument);
  EXPECT_THROW(derive({.memory_kib = 8, .iterations = 1}, "p", salt, long_tag),
               std::invalid_argument);
}

// Our PHC string is libsodium's: libsodium verifies ours, we parse and recompute libsodium's.
TEST_F(Argon2idTest, PhcStringsAreLibsodiumsBothWays) {
  const Params params{.memory_kib = 64, .iterations = 2};
  std::array<std::uint8_t, 16> salt{};
  randombytes_buf(salt.data(), salt.size());
  std::vector<std::uint8_t> tag(32);
  derive(params, "hunter2", salt, tag);
  const std::string ours = format_phc(params, salt, tag);
  EXPECT_EQ(ours.rfind("$argon2id$v=19$m=64,t=2,p=1$", 0), 0U) << ours;
  EXPECT_EQ(crypto_pwhash_str_verify(ours.c_str(), "hunter2", 7), 0);
  EXPECT_NE(crypto_pwhash_str_verify(ours.c_str(), "hunter3", 7), 0);

  std::array<char, crypto_pwhash_STRBYTES> theirs{};
  ASSERT_EQ(crypto_pwhash_str_alg(theirs.data(), "hunter2", 7, 3, 128 * 1024,
                                  crypto_pwhash_ALG_ARGON2ID13),
            0);
  const auto parsed = parse_phc(theirs.data());
  ASSERT_TRUE(parsed.has_value()) << theirs.data();
  EXPECT_EQ(parsed->params, (Params{.memory_kib = 128, .iterations = 3}));
  EXPECT_EQ(parsed->salt.size(), 16U);
  std::vector<std::uint8_t> recomputed(parsed->tag.size());
  derive(parsed->params, "hunter2", parsed->salt, recomputed);
  EXPECT_EQ(recomputed, parsed->tag);
  EXPECT_EQ(format_phc(parsed->params, parsed->salt, parsed->tag), std::string(theirs.data()));
}

TEST_F(Argon2idTest, ParsesOnlyTheOneForm) {
  const std::string good =
      "$argon2id$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + std::string(43, 'A');
  ASSERT_TRUE(parse_phc(good).has_value());
  for (const std::string& bad : {
           std::string(),
           std::string("$argon2i$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") + std::string(43, 'A'),
           std::string("$argon2id$v=16$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") +
               std::string(43, 'A'),
           std::string("$argon2id$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") + std::string(43, 'A'),
           std::string("$argon2id$v=19$m=64,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$") +
               std::string(43, 'A'),
           std::string("$argon2id$v=19$m=7,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") + std::string(43, 'A'),
           std::string("$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$") +
               std::string(43, 'A'),
           std::string("$argon2id$v=19$m=4294967296,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") +
               std::string(43, 'A'),
           std::string("$argon2id$v=19$m=-64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") +
               std::string(43, 'A'),
           std::string("$argon2id$v=19$m=64,t=2,p=1$c2FsdA$") +
               std::string(43, 'A'),  // 4-byte salt
           std::string("$argon2id$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") +
               std::string(20, 'A'),
           std::string("$argon2id$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$") +
               std::string(90, 'A'),
           std::string("$argon2id$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA==$") +
               std::string(43, 'A'),
           good + "$",
           good + "\n",
           std::string(good).insert(30, 1, '\0'),
       }) {
    EXPECT_FALSE(parse_phc(bad).has_value()) << bad;
  }
}

// The two compressions agree block by block, including the in-place form the address
// generator uses (next is ref).
TEST_F(Argon2idTest, TheCompressionsAgreeOnRandomBlocks) {
  if (!supported(Compression::avx2)) GTEST_SKIP() << "no AVX2 on this CPU: one compression only";
  using kit::security::argon2id::Block;
  for (int round = 0; round < 50; ++round) {
    Block prev{}, ref{}, a{}, b{};
    randombytes_buf(prev.v, sizeof prev.v);
    randombytes_buf(ref.v, sizeof ref.v);
    randombytes_buf(a.v, sizeof a.v);
    b = a;
    const bool xor_into = round % 2 == 1;
    kit::security::argon2id::compress_portable(prev, ref, a, xor_into);
    kit::security::argon2id::compress_avx2(prev, ref, b, xor_into);
    ASSERT_EQ(0, std::memcmp(a.v, b.v, sizeof a.v)) << round;
    Block in_place_a = ref, in_place_b = ref;
    kit::security::argon2id::compress_portable(prev, in_place_a, in_place_a, false);
    kit::security::argon2id::compress_avx2(prev, in_place_b, in_place_b, false);
    ASSERT_EQ(0, std::memcmp(in_place_a.v, in_place_b.v, sizeof a.v)) << round;
  }
}

}  // namespace
