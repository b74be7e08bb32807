#include "kit/ratelimit/guard.hpp"

#include "kit/errors/app_error.hpp"

namespace kit::ratelimit {

std::string policy_header(const Policy& policy) {
  return "\"" + policy.name + "\";q=" + std::to_string(policy.limit) +
         ";w=" + std::to_string(policy.window.count());
}

std::string status_header(const Policy& policy, const Decision& decision) {
  return "\"" + policy.name + "\";r=" + std::to_string(decision.remaining) +
         ";t=" + std::to_string(decision.reset_seconds);
}

void add_headers(http::Response& res, const Policy& policy, const Decision& decision) {
  res.insert("RateLimit-Policy", policy_header(policy));
  res.insert("RateLimit", status_header(policy, decision));
}

void add_headers(errors::AppError& error, const Policy& policy, const Decision& decision) {
  // Named strings, not literals: GCC 12 -O2 reports a false -Warray-bounds when a 16-byte
  // literal becomes a std::string argument here.
  static const std::string kPolicyField = "RateLimit-Policy";
  static const std::string kStatusField = "RateLimit";
  error.with_header(kPolicyField, policy_header(policy));
  error.with_header(kStatusField, status_header(policy, decision));
}

kit::metrics::Counter* rejections_counter(kit::metrics::Registry* registry, const Policy& policy) {
  if (registry == nullptr) return nullptr;
  return &registry
              ->counter("rate_limit_rejections_total",
                        "Requests refused with 429 by a rate-limit policy.", {"policy"})
              .labels(policy.name);
}

boost::asio::awaitable<Decision> Guard::check(std::string key,
                                              const kit::trace::Parent* parent) const {
  if (!limiter_) co_return Decision{.allowed = true, .limit = policy_.limit};
  const Decision d = co_await limiter_->hit(std::move(key), policy_, parent);
  if (!d.allowed) {
    if (rejections_ != nullptr) rejections_->inc();
    errors::RateLimited error(std::chrono::seconds{d.retry_after_seconds});
    add_headers(error, policy_, d);
    throw error;
  }
  co_return d;
}

void Guard::apply_headers(http::Response& res, const Decision& decision) const {
  if (limiter_) add_headers(res, policy_, decision);
}

void Guard::apply_headers(errors::AppError& error, const Decision& decision) const {
  if (limiter_) add_headers(error, policy_, decision);
}

}  // namespace kit::ratelimit
