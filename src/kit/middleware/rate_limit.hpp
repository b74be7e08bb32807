#pragma once
// The `default` rate-limit policy (README "Rate limiting"): one budget per client, keyed by
// net::client_key(ctx.client_ip) (an IPv6 client's /64; ClientIp must run first) for every route
// whose RouteInfo::rate_limited is true — all but health, metrics and docs. Requests that match no
// route (404) or use a wrong method (405) count too: they are not health routes, and scanning
// unknown paths must cost budget like anything else.
//
// The route is the one the server matched before the chain (RequestContext::route_info).
// Responses of limited routes carry RateLimit-Policy and RateLimit; over the
// limit this throws kit::errors::RateLimited (429 + Retry-After + both fields), so it must sit
// INSIDE ErrorMapping, which renders the envelope. Errors thrown further in (404, 422, ...) get
// the fields too.
#include <memory>

#include "kit/http/pipeline.hpp"
#include "kit/http/router.hpp"  // RouteInfo
#include "kit/ratelimit/guard.hpp"
#include "kit/ratelimit/limiter.hpp"

namespace kit::middleware {

class RateLimit final : public http::HookMiddleware {
 public:
  // `metrics`: counts 429s in rate_limit_rejections_total{policy}; null = no metrics.
  RateLimit(std::shared_ptr<ratelimit::Limiter> limiter, ratelimit::Policy policy,
            kit::metrics::Registry* metrics = nullptr)
      : limiter_(std::move(limiter)),
        policy_(std::move(policy)),
        rejections_(ratelimit::rejections_counter(metrics, policy_)) {}

  // Limited requests wait for the limiter (a 429 is thrown from there); their response, or the
  // application error thrown further in, gets RateLimit-Policy and RateLimit.
  bool needs_wait(http::Request& req, http::RequestContext& ctx) override;
  boost::asio::awaitable<std::optional<http::Response>> wait(http::Request& req,
                                                             http::RequestContext& ctx) override;
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;
  std::optional<http::Response> on_error(http::Request& req, http::RequestContext& ctx,
                                         std::exception* error) override;
  // Whether the request is subject to the policy.
  static bool limited(const http::RequestContext& ctx);

 private:
  std::shared_ptr<ratelimit::Limiter> limiter_;
  ratelimit::Policy policy_;
  kit::metrics::Counter* rejections_;
};

}  // namespace kit::middleware
