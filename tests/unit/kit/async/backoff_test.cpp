#include "kit/async/backoff.hpp"

#include <chrono>
#include <cstdint>

#include <gtest/gtest.h>

namespace {

using kit::async::Backoff;
using std::chrono::milliseconds;

TEST(Backoff, DoublesFromTheBaseBetweenHalfAndAllOfTheCeiling) {
  const Backoff backoff{.base = milliseconds{1000}, .cap = milliseconds{60'000}};
  const std::int64_t ceilings[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (unsigned attempt = 0; attempt < std::size(ceilings); ++attempt) {
    EXPECT_EQ(backoff.delay(attempt, 0.0).count(), ceilings[attempt] / 2) << attempt;
    EXPECT_EQ(backoff.delay(attempt, 0.5).count(), ceilings[attempt] * 3 / 4) << attempt;
    EXPECT_LE(backoff.delay(attempt, 0.999999).count(), ceilings[attempt]) << attempt;
    EXPECT_GE(backoff.delay(attempt, 0.999999).count(), ceilings[attempt] * 99 / 100) << attempt;
  }
}

TEST(Backoff, StaysAtTheCapForAnyAttemptAndAnyRandomNumber) {
  const Backoff backoff{.base = milliseconds{250}, .cap = milliseconds{3'600'000}};
  for (const unsigned attempt : {30U, 64U, 1000U, 4'000'000'000U}) {
    EXPECT_EQ(backoff.delay(attempt, 1.0).count(), 3'600'000) << attempt;
    EXPECT_EQ(backoff.delay(attempt, -5.0).count(), 1'800'000) << attempt;
  }
  // A cap near the type's limit does not overflow while doubling.
  const Backoff huge{.base = milliseconds{3}, .cap = milliseconds::max()};
  EXPECT_EQ(huge.delay(200, 1.0), milliseconds::max());
}

TEST(Backoff, AZeroBaseOrCapMeansNoWait) {
  EXPECT_EQ(
      (Backoff{.base = milliseconds{0}, .cap = milliseconds{1000}}.delay(4'000'000'000U, 1.0)),
      milliseconds{0});
  EXPECT_EQ((Backoff{.base = milliseconds{1000}, .cap = milliseconds{0}}.delay(3, 0.7)),
            milliseconds{0});
}

}  // namespace
