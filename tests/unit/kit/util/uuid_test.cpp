// kit::util UUIDs and random ids (docs/http-api.md "Conventions": user ids are UUID v7, request
// ids UUID v4, written as lowercase strings).
#include "kit/util/uuid.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "kit/util/random.hpp"

namespace {

using kit::util::is_uuid;
using kit::util::random_hex;
using kit::util::uuid_v4;
using kit::util::uuid_v7;
using namespace std::chrono;
using namespace std::chrono_literals;

const std::regex kV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
const std::regex kV7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

TEST(Uuid, V4FormatVersionAndVariant) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = uuid_v4();
    ASSERT_TRUE(std::regex_match(id, kV4)) << id;
    ASSERT_TRUE(is_uuid(id));
  }
}

TEST(Uuid, V4RandomBitsVary) {
  // Every hex position outside the fixed nibbles takes more than one value across 1000 ids.
  std::vector<std::set<char>> seen(36);
  for (int i = 0; i < 1000; ++i) {
    const std::string id = uuid_v4();
    for (std::size_t k = 0; k < 36; ++k) seen[k].insert(id[k]);
  }
  for (std::size_t k = 0; k < 36; ++k) {
    if (k == 8 || k == 13 || k == 18 || k == 23 || k == 14) {
      EXPECT_EQ(seen[k].size(), 1u) << k;
    } else if (k == 19) {
      EXPECT_EQ(seen[k].size(), 4u) << "variant nibble takes 8, 9, a, b";
    } else {
      EXPECT_GT(seen[k].size(), 8u) << "position " << k;
    }
  }
}

TEST(Uuid, V7FormatVersionVariantAndTimestamp) {
  const auto t = sys_days{year{2024} / July / 3} + 12h + 34min + 56s + 789ms;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%012llx", static_cast<unsigned long long>(ms));
  const std::string expected_prefix =
      std::string(prefix, 8) + "-" + std::string(prefix + 8, 4);  // 8-4 of the 48-bit ms
  for (int i = 0; i < 200; ++i) {
    const std::string id = uuid_v7(t);
    ASSERT_TRUE(std::regex_match(id, kV7)) << id;
    EXPECT_EQ(id.substr(0, 13), expected_prefix) << id;
  }
  EXPECT_TRUE(std::regex_match(uuid_v7(), kV7));
}

TEST(Uuid, V7IsTimeOrderedAcrossMilliseconds) {
  auto t = sys_days{year{2025} / January / 1} + 0ms;
  std::string previous = uuid_v7(t);
  for (int i = 0; i < 5000; ++i) {
    t += milliseconds{1 + i % 3};
    const std::string next = uuid_v7(t);
    ASSERT_LT(previous, next) << "at step " << i;
    previous = next;
  }
  // Far apart times order as well, including the byte carries of the 48-bit field.
  EXPECT_LT(uuid_v7(system_clock::time_point{milliseconds{0xFF}}),
            uuid_v7(system_clock::time_point{milliseconds{0x100}}));
  EXPECT_LT(uuid_v7(system_clock::time_point{milliseconds{0xFFFFFFFF}}),
            uuid_v7(system_clock::time_point{milliseconds{0x100000000}}));
  // And with the real clock.
  const std::string a = uuid_v7();
  std::this_thread::sleep_for(3ms);
  EXPECT_LT(a, uuid_v7());
}

TEST(Uuid, IsUuid) {
  EXPECT_TRUE(is_uuid("0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e"));
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(is_uuid("0190D3E4-5F6A-7B8C-9D0E-1F2A3B4C5D6E"));  // either case
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6"));    // short
  EXPECT_FALSE(is_uuid("0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e0"));  // long
  EXPECT_FALSE(is_uuid("0190d3e45f6a7b8c9d0e1f2a3b4c5d6e"));       // no dashes
  EXPECT_FALSE(is_uuid("0190d3e4-5f6a-7b8c-9d0e1-f2a3b4c5d6e"));   // dash misplaced
  EXPECT_FALSE(is_uuid("0190d3e4_5f6a-7b8c-9d0e-1f2a3b4c5d6e"));   // wrong separator
  EXPECT_FALSE(is_uuid("0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6g"));   // not hex
  EXPECT_FALSE(is_uuid("{0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6}"));  // braces
  EXPECT_FALSE(is_uuid("0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6 "));
  EXPECT_FALSE(is_uuid(std::string_view("0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6\0", 36)));
}

TEST(RandomHex, LengthAndCharset) {
  const std::regex lower_hex("^[0-9a-f]*$");
  EXPECT_EQ(random_hex(0), "");
  for (std::size_t bytes : {1u, 7u, 8u, 9u, 16u, 33u}) {
    const std::string h = random_hex(bytes);
    EXPECT_EQ(h.size(), bytes * 2) << bytes;
    EXPECT_TRUE(std::regex_match(h, lower_hex)) << h;
  }
  // All 16 digits show up.
  std::set<char> digits;
  for (int i = 0; i < 100; ++i) {
    for (char c : random_hex(16)) digits.insert(c);
  }
  EXPECT_EQ(digits.size(), 16u);
}

TEST(RandomIds, UniqueOver10kIds) {
  std::unordered_set<std::string> v4, v7, hex;
  for (int i = 0; i < 10000; ++i) {
    v4.insert(uuid_v4());
    v7.insert(uuid_v7());
    hex.insert(random_hex(16));
  }
  EXPECT_EQ(v4.size(), 10000u);
  EXPECT_EQ(v7.size(), 10000u);
  EXPECT_EQ(hex.size(), 10000u);
}

TEST(RandomIds, ThreadsDoNotShareASequence) {
  // Each thread seeds its own generator from the OS; two threads must not produce the same ids.
  std::vector<std::string> a, b;
  std::thread ta([&] {
    for (int i = 0; i < 5000; ++i) a.push_back(uuid_v4());
  });
  std::thread tb([&] {
    for (int i = 0; i < 5000; ++i) b.push_back(uuid_v4());
  });
  ta.join();
  tb.join();
  std::unordered_set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 10000u);
}

TEST(RandomIds, FastRandomVaries) {
  std::set<std::uint64_t> values;
  for (int i = 0; i < 1000; ++i) values.insert(kit::util::fast_random());
  EXPECT_EQ(values.size(), 1000u);
  EXPECT_EQ(values.count(0), 0u);
}

}  // namespace
