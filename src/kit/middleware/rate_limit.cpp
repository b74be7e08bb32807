#include "kit/middleware/rate_limit.hpp"

#include "kit/errors/app_error.hpp"
#include "kit/ratelimit/guard.hpp"

namespace kit::middleware {

bool RateLimit::limited(const http::Request& req, http::RequestContext& ctx) const {
  if (ctx.route_info == nullptr) {
    try {
      router_.match(req.method(), http::target_path(req.target()), ctx);
    } catch (const std::exception&) {
      // 404 / 405: counted (see the header comment); the router throws them again later.
      return true;
    }
  }
  return ctx.route_info == nullptr || ctx.route_info->rate_limited;
}

// Not a coroutine: a request the policy does not cover (health, metrics, docs) goes on to the
// rest of the chain without a frame of this link (issue 8).
boost::asio::awaitable<http::Response> RateLimit::handle(http::Request& req,
                                                         http::RequestContext& ctx,
                                                         http::Next next) {
  if (!limited(req, ctx)) return next(req, ctx);
  return limit(req, ctx, next);
}

boost::asio::awaitable<http::Response> RateLimit::limit(http::Request& req,
                                                        http::RequestContext& ctx,
                                                        http::Next next) {
  const ratelimit::Decision decision = co_await limiter_->hit(ctx.client_ip, policy_);
  if (!decision.allowed) {
    if (rejections_ != nullptr) rejections_->inc();
    errors::RateLimited error(std::chrono::seconds{decision.retry_after_seconds});
    ratelimit::add_headers(error, policy_, decision);
    throw error;
  }
  http::Response res;
  try {
    res = co_await next(req, ctx);
  } catch (errors::AppError& error) {
    ratelimit::add_headers(error, policy_, decision);
    throw;
  }
  ratelimit::add_headers(res, policy_, decision);
  co_return res;
}

}  // namespace kit::middleware
