#pragma once
// Rate limiting (RATE_LIMIT_* in docs/configuration.md; docs/http-api.md "Rate limiting" and
// "Headers on every response"): a named policy of `limit` requests per `window`, enforced per
// key (a client IP, a username) by one of two backends behind this interface — in-process (one
// replica) or Redis (all replicas share one budget).
//
// The algorithm is GCRA (generic cell rate algorithm, a leaky bucket without a refill job):
// each key stores one number, its theoretical arrival time (TAT). With interval = window/limit,
// a request at `now` is allowed when max(TAT, now) + interval - window <= now; then TAT moves
// on by one interval. So at most `limit` requests fit in a burst and the budget refills
// continuously at limit/window. One number per key keeps both the memory of
// the in-process table and the Redis script small.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "kit/http/rate_limit_decision.hpp"
#include "kit/trace/parent.hpp"

namespace kit::ratelimit {

struct Policy {
  std::string name;  // "default", "auth": shown in the RateLimit headers
  std::uint32_t limit = 600;
  std::chrono::seconds window{60};
};

// What a limiter answers; defined in the http layer, which carries it in the request context.
using Decision = http::RateLimitDecision;

class Limiter {
 public:
  virtual ~Limiter() = default;
  // Counts one request for `key` under `policy`. Backend failures are handled inside (fail
  // open, or kit::errors::ServiceUnavailable): this never throws anything that becomes a 500.
  // `parent`: a sampled request's span; a limiter that calls a server records the call under
  // it (docs/tracing.md "Child spans").
  virtual boost::asio::awaitable<Decision> hit(std::string key, const Policy& policy,
                                               const kit::trace::Parent* parent) = 0;
  // The same outside a traced request.
  boost::asio::awaitable<Decision> hit(std::string key, const Policy& policy) {
    return hit(std::move(key), policy, nullptr);
  }
};

// Keys are bounded: a longer key (a hostile username) is replaced by a prefix and its digest.
inline constexpr std::size_t kMaxKeyBytes = 128;
std::string bounded_key(std::string_view key);

// A policy's window, and its emission interval (window / limit, at least 1), in whole
// microseconds: the units of gcra() and of the Redis script.
std::int64_t window_us(const Policy& policy);
std::int64_t interval_us(const Policy& policy);

// The pure GCRA step, shared by the in-process backend and the tests (the Redis script is its
// Lua twin). Times are microseconds on any monotonic clock; `tat` is 0 for an unknown key.
struct GcraResult {
  Decision decision;
  std::int64_t new_tat = 0;  // store this when allowed
};
GcraResult gcra(std::int64_t now_us, std::int64_t tat_us, const Policy& policy);

// Builds a Decision from microsecond durations (rounded up to whole seconds).
Decision make_decision(bool allowed, std::uint32_t limit, std::int64_t remaining,
                       std::int64_t reset_us, std::int64_t retry_us);

}  // namespace kit::ratelimit
