#pragma once
// Retry delays: exponential backoff with jitter. Attempt n (0 for the first retry) waits a
// random time between half and all of min(cap, base * 2^n), so retries of many callers that
// failed together spread out instead of arriving together, and the delay still grows.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace kit::async {

struct Backoff {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{std::chrono::hours{1}};

  // `unit` is a random number in [0, 1) (clamped into it).
  std::chrono::milliseconds delay(unsigned attempt, double unit) const noexcept {
    const std::int64_t capped = std::max<std::int64_t>(cap.count(), 0);
    std::int64_t ceiling = std::max<std::int64_t>(base.count(), 0);
    for (unsigned i = 0; i < attempt && ceiling > 0 && ceiling < capped; ++i) {
      ceiling = ceiling > capped / 2 ? capped : ceiling * 2;
    }
    ceiling = std::min(ceiling, capped);
    unit = std::clamp(unit, 0.0, 1.0);
    const auto half = ceiling / 2;
    const auto spread = static_cast<std::int64_t>(static_cast<double>(ceiling - half) * unit);
    return std::chrono::milliseconds{std::min(ceiling, half + spread)};
  }
};

}  // namespace kit::async
