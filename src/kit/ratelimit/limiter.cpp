#include "kit/ratelimit/limiter.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>

namespace kit::ratelimit {

namespace {

std::uint32_t ceil_seconds(std::int64_t us) {
  if (us <= 0) return 0;
  return static_cast<std::uint32_t>((us + 999'999) / 1'000'000);
}

}  // namespace

std::string bounded_key(std::string_view key) {
  if (key.size() <= kMaxKeyBytes) return std::string(key);
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(key.substr(0, kMaxKeyBytes - 2 * digest.size() - 1));
  out += '#';
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

Decision make_decision(bool allowed, std::uint32_t limit, std::int64_t remaining,
                       std::int64_t reset_us, std::int64_t retry_us) {
  Decision d;
  d.allowed = allowed;
  d.limit = limit;
  d.remaining = static_cast<std::uint32_t>(std::clamp<std::int64_t>(remaining, 0, limit));
  if (allowed) {
    d.reset_seconds = ceil_seconds(reset_us);
  } else {
    // Retry-After is never earlier than the reset the RateLimit header announces
    // (docs/http-api.md "Rate limiting").
    d.retry_after_seconds = std::max<std::uint32_t>(1, ceil_seconds(retry_us));
    d.reset_seconds = d.retry_after_seconds;
  }
  return d;
}

std::int64_t window_us(const Policy& policy) {
  return std::chrono::duration_cast<std::chrono::microseconds>(policy.window).count();
}

std::int64_t interval_us(const Policy& policy) {
  return std::max<std::int64_t>(window_us(policy) / std::max<std::uint32_t>(policy.limit, 1), 1);
}

GcraResult gcra(std::int64_t now_us, std::int64_t tat_us, const Policy& policy) {
  // Integer microseconds everywhere, exactly like the Lua script of the Redis backend.
  const std::int64_t window = window_us(policy);
  const std::int64_t interval = interval_us(policy);
  const std::int64_t tat = std::max(tat_us, now_us);
  const std::int64_t new_tat = tat + interval;
  const std::int64_t allow_at = new_tat - window;
  GcraResult out;
  if (now_us < allow_at) {
    out.decision = make_decision(false, policy.limit, 0, 0, allow_at - now_us);
    out.new_tat = tat_us;
    return out;
  }
  const std::int64_t remaining = (window - (new_tat - now_us)) / interval;
  out.decision = make_decision(true, policy.limit, remaining, new_tat - now_us, 0);
  out.new_tat = new_tat;
  return out;
}

}  // namespace kit::ratelimit
