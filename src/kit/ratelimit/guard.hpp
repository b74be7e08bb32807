#pragma once
// Applying a policy from a handler, and the IETF RateLimit header fields
// (draft-ietf-httpapi-ratelimit-headers, current form; docs/http-api.md "Rate limiting"):
//   RateLimit-Policy: "default";q=600;w=60
//   RateLimit: "default";r=<remaining>;t=<seconds to reset>
// and on 429 Retry-After (never earlier than t). A response limited by two policies (the
// `default` middleware and a handler's `auth` guard) carries one entry of each, appended.
//
// Guard is what handlers use for a policy of their own, e.g. per client and per account:
//   const auto by_client = co_await guard.check("login-client:" + net::client_key(ip));  // 429
//   const auto by_account = co_await guard.check("login-account:" + account);
//   const auto& shown = Guard::stricter(by_client, by_account);
//   try { ...; guard.apply_headers(res, shown); }
//   catch (kit::errors::AppError& e) { guard.apply_headers(e, shown); throw; }
// A disabled guard (RATE_LIMIT_ENABLED=false: no limiter) allows everything and adds nothing.
#include <memory>
#include <string>

#include "kit/http/types.hpp"
#include "kit/metrics/registry.hpp"
#include "kit/ratelimit/limiter.hpp"

namespace kit::errors {
class AppError;
}

namespace kit::ratelimit {

std::string policy_header(const Policy& policy);                            // "auth";q=10;w=60
std::string status_header(const Policy& policy, const Decision& decision);  // "auth";r=9;t=6

// Appends both fields to a response / to an error (rendered later by ErrorMapping).
void add_headers(http::Response& res, const Policy& policy, const Decision& decision);
void add_headers(errors::AppError& error, const Policy& policy, const Decision& decision);

// rate_limit_rejections_total{policy} (429s given by the middleware and by guards), or null
// when `registry` is null (no metrics).
kit::metrics::Counter* rejections_counter(kit::metrics::Registry* registry, const Policy& policy);

class Guard {
 public:
  Guard(std::shared_ptr<Limiter> limiter, Policy policy, kit::metrics::Registry* metrics = nullptr)
      : limiter_(std::move(limiter)),
        policy_(std::move(policy)),
        rejections_(rejections_counter(metrics, policy_)) {}

  bool enabled() const noexcept { return limiter_ != nullptr; }
  const Policy& policy() const noexcept { return policy_; }

  // Counts one request for `key`. Over the limit: throws kit::errors::RateLimited (429 with
  // Retry-After and the RateLimit fields). Backend down and failing closed: ServiceUnavailable.
  // `parent`: the request's span when it is sampled (RequestContext::span_parent()).
  boost::asio::awaitable<Decision> check(std::string key,
                                         const kit::trace::Parent* parent = nullptr) const;

  // Adds the RateLimit fields for `decision` (nothing when disabled), to a response or to an
  // error thrown after the check (a 401 or 422 still tells the client its budget).
  void apply_headers(http::Response& res, const Decision& decision) const;
  void apply_headers(errors::AppError& error, const Decision& decision) const;

  // The decision to show when one request was checked under several keys: the least remaining.
  static const Decision& stricter(const Decision& a, const Decision& b) noexcept {
    return a.remaining <= b.remaining ? a : b;
  }

 private:
  std::shared_ptr<Limiter> limiter_;
  Policy policy_;
  kit::metrics::Counter* rejections_;
};

}  // namespace kit::ratelimit
