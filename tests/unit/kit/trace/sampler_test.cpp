#include "kit/trace/sampler.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using kit::trace::Sampler;

Sampler parsed(std::string_view name, std::string_view arg = "") {
  std::string error;
  const auto sampler = Sampler::parse(name, arg, error);
  EXPECT_TRUE(sampler) << name << " " << arg << ": " << error;
  return sampler.value_or(Sampler());
}

// A trace id whose last 56 bits are `random` (14 hex digits).
std::string trace_id(const char* random) {
  return std::string("0123456789abcdef01") + random;
}

TEST(Sampler, TheDefaultIsParentBasedAlwaysOn) {
  EXPECT_EQ(parsed("").name(), "parentbased_always_on");
  const Sampler s;
  EXPECT_TRUE(s.should_sample(trace_id("00000000000000"), std::nullopt));
  EXPECT_TRUE(s.should_sample(trace_id("00000000000000"), true));
  EXPECT_FALSE(s.should_sample(trace_id("00000000000000"), false));
}

TEST(Sampler, EveryNameOfTheSdkSpecificationParsesBackToItself) {
  for (const char* name : {"always_on", "always_off", "traceidratio", "parentbased_always_on",
                           "parentbased_always_off", "parentbased_traceidratio"}) {
    EXPECT_EQ(parsed(name, "0.5").name(), name);
  }
}

TEST(Sampler, RefusesUnknownNamesAndRatiosOutsideZeroToOne) {
  for (const auto& [name, arg] : std::initializer_list<std::pair<const char*, const char*>>{
           {"sometimes", ""},
           {"AlwaysOn", ""},
           {"traceidratio", "1.5"},
           {"traceidratio", "-0.1"},
           {"traceidratio", "half"},
           {"parentbased_traceidratio", "0.5x"},
           {"traceidratio", "nan"}}) {
    std::string error;
    EXPECT_FALSE(Sampler::parse(name, arg, error)) << name << " " << arg;
    EXPECT_NE(error.find("OTEL_TRACES_SAMPLER"), std::string::npos) << error;
  }
}

TEST(Sampler, TheRatioKeepsTraceIdsBelowItsShareOfTheRandomPart) {
  const Sampler quarter = parsed("traceidratio", "0.25");
  EXPECT_TRUE(quarter.should_sample(trace_id("00000000000000"), std::nullopt));
  EXPECT_TRUE(quarter.should_sample(trace_id("3fffffffffffff"), std::nullopt));
  EXPECT_FALSE(quarter.should_sample(trace_id("40000000000000"), std::nullopt));
  EXPECT_FALSE(quarter.should_sample(trace_id("ffffffffffffff"), std::nullopt));
  // Not parent-based: the parent's decision does not matter.
  EXPECT_FALSE(quarter.should_sample(trace_id("ffffffffffffff"), true));
  // A malformed id is never sampled by ratio.
  EXPECT_FALSE(quarter.should_sample("not-a-trace-id", std::nullopt));
  EXPECT_TRUE(parsed("traceidratio", "1").should_sample(trace_id("ffffffffffffff"), false));
  EXPECT_FALSE(parsed("traceidratio", "0").should_sample(trace_id("00000000000000"), true));
}

TEST(Sampler, ParentBasedFollowsTheParentAndUsesItsRootForNewTraces) {
  const Sampler s = parsed("parentbased_traceidratio", "0.25");
  EXPECT_TRUE(s.should_sample(trace_id("ffffffffffffff"), true));
  EXPECT_FALSE(s.should_sample(trace_id("00000000000000"), false));
  EXPECT_TRUE(s.should_sample(trace_id("00000000000000"), std::nullopt));
  EXPECT_FALSE(s.should_sample(trace_id("ffffffffffffff"), std::nullopt));
  EXPECT_FALSE(parsed("parentbased_always_off").should_sample(trace_id("0"), std::nullopt));
}

TEST(Sampler, AboutTheRatioOfRandomIdsIsKept) {
  const Sampler tenth = parsed("traceidratio", "0.1");
  int kept = 0;
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 10000; ++i) {
    x ^= x << 13U;
    x ^= x >> 7U;
    x ^= x << 17U;
    char random[15];
    std::snprintf(random, sizeof random, "%014llx",
                  static_cast<unsigned long long>(x & 0xffffffffffffffULL));
    kept += tenth.should_sample(trace_id(random), std::nullopt) ? 1 : 0;
  }
  EXPECT_GT(kept, 850);
  EXPECT_LT(kept, 1150);
}

}  // namespace
