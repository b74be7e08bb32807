#pragma once
// Exponential backoff with "equal jitter": half the delay is fixed, half random, so many
// clients retrying after one outage spread out instead of arriving together.
#include <algorithm>
#include <chrono>
#include <random>

namespace kit::db::pg::detail {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), rng_(std::random_device{}()) {}

  // Delay before retry number `attempt` (1 for the first retry).
  std::chrono::milliseconds delay(int attempt) {
    auto base = initial_;
    for (int i = 1; i < attempt && base < max_; ++i) base *= 2;
    base = std::min(base, max_);
    const auto half = base.count() / 2;
    std::uniform_int_distribution<long long> jitter(0, std::max<long long>(half, 0));
    return std::chrono::milliseconds{base.count() - half + jitter(rng_)};
  }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::minstd_rand rng_;
};

}  // namespace kit::db::pg::detail
