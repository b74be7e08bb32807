#pragma once
// A rate limiter's answer for one request (kit/ratelimit computes it). Plain data of the http
// layer because the request context carries the default policy's answer from the link that
// asked to the response it decorates (kit/middleware/rate_limit.hpp).
#include <cstdint>

namespace kit::http {

struct RateLimitDecision {
  bool allowed = true;
  std::uint32_t limit = 0;
  std::uint32_t remaining = 0;            // requests still allowed right now
  std::uint32_t reset_seconds = 0;        // until the whole budget is back (denied: next allowed)
  std::uint32_t retry_after_seconds = 0;  // denied only: >= 1, never earlier than reset_seconds
};

}  // namespace kit::http
