#include "kit/async/circuit_breaker.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace {

using kit::async::CircuitBreaker;
using State = CircuitBreaker::State;
using namespace std::chrono_literals;

class CircuitBreakerTest : public testing::Test {
 protected:
  CircuitBreaker::Clock::time_point t0_ = CircuitBreaker::Clock::now();
  CircuitBreaker breaker_{{.failure_threshold = 3, .open_for = 30s}};
};

TEST_F(CircuitBreakerTest, OpensAfterTheThresholdOfFailuresInARow) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker_.allow(t0_));
    breaker_.record_failure(t0_);
    EXPECT_EQ(breaker_.state(), State::closed);
  }
  ASSERT_TRUE(breaker_.allow(t0_));
  breaker_.record_failure(t0_);
  EXPECT_EQ(breaker_.state(), State::open);
  EXPECT_EQ(breaker_.openings(), 1U);
  EXPECT_FALSE(breaker_.allow(t0_ + 29s));
}

TEST_F(CircuitBreakerTest, ASuccessResetsTheCount) {
  for (int round = 0; round < 5; ++round) {
    breaker_.record_failure(t0_);
    breaker_.record_failure(t0_);
    breaker_.record_success();
  }
  EXPECT_EQ(breaker_.state(), State::closed);
  EXPECT_EQ(breaker_.openings(), 0U);
}

TEST_F(CircuitBreakerTest, AfterTheOpenTimeOneTrialGoesOutAndDecides) {
  for (int i = 0; i < 3; ++i) breaker_.record_failure(t0_);
  ASSERT_EQ(breaker_.state(), State::open);

  // The trial fails: open again for another 30 s, counted as another opening.
  EXPECT_TRUE(breaker_.allow(t0_ + 30s));
  EXPECT_EQ(breaker_.state(), State::half_open);
  EXPECT_FALSE(breaker_.allow(t0_ + 30s));  // one trial at a time
  breaker_.record_failure(t0_ + 31s);
  EXPECT_EQ(breaker_.state(), State::open);
  EXPECT_EQ(breaker_.openings(), 2U);
  EXPECT_FALSE(breaker_.allow(t0_ + 60s));

  // The next trial succeeds: closed, every call goes out.
  EXPECT_TRUE(breaker_.allow(t0_ + 61s));
  breaker_.record_success();
  EXPECT_EQ(breaker_.state(), State::closed);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(breaker_.allow(t0_ + 61s));
  EXPECT_EQ(breaker_.openings(), 2U);
}

TEST_F(CircuitBreakerTest, FailuresRecordedWhileOpenDoNotCountAsNewOpenings) {
  for (int i = 0; i < 3; ++i) breaker_.record_failure(t0_);
  for (int i = 0; i < 10; ++i) breaker_.record_failure(t0_ + 1s);  // calls that were in flight
  EXPECT_EQ(breaker_.openings(), 1U);
  EXPECT_EQ(breaker_.state(), State::open);
}

TEST_F(CircuitBreakerTest, ACancelledTrialLetsTheNextTrialThrough) {
  for (int i = 0; i < 3; ++i) breaker_.record_failure(t0_);
  ASSERT_TRUE(breaker_.allow(t0_ + 30s));
  EXPECT_FALSE(breaker_.allow(t0_ + 30s));
  breaker_.cancel();  // nothing was sent
  EXPECT_EQ(breaker_.state(), State::half_open);
  EXPECT_TRUE(breaker_.allow(t0_ + 31s));
  EXPECT_EQ(breaker_.openings(), 1U);
}

TEST(CircuitBreaker, AThresholdOfZeroActsAsOne) {
  CircuitBreaker breaker({.failure_threshold = 0, .open_for = 1s});
  const auto now = CircuitBreaker::Clock::now();
  breaker.record_failure(now);
  EXPECT_EQ(breaker.state(), State::open);
}

}  // namespace
