#include "kit/middleware/rate_limit.hpp"

#include "kit/errors/app_error.hpp"
#include "kit/net/client_key.hpp"
#include "kit/ratelimit/guard.hpp"

namespace kit::middleware {

bool RateLimit::limited(const http::RequestContext& ctx) {
  // No route (404, 405, a malformed request): counted, see the header comment.
  return ctx.route_info == nullptr || ctx.route_info->rate_limited;
}

bool RateLimit::needs_wait(http::Request&, http::RequestContext& ctx) {
  return limited(ctx);
}

boost::asio::awaitable<std::optional<http::Response>> RateLimit::wait(http::Request&,
                                                                      http::RequestContext& ctx) {
  const ratelimit::Decision decision =
      co_await limiter_->hit(net::client_key(ctx.client_ip), policy_, ctx.span_parent());
  if (!decision.allowed) {
    if (rejections_ != nullptr) rejections_->inc();
    errors::RateLimited error(std::chrono::seconds{decision.retry_after_seconds});
    ratelimit::add_headers(error, policy_, decision);
    throw error;
  }
  ctx.rate_limit = decision;
  co_return std::nullopt;
}

void RateLimit::after(http::Request&, http::RequestContext& ctx, http::Response& res) {
  if (ctx.rate_limit) ratelimit::add_headers(res, policy_, *ctx.rate_limit);
}

// Adds the fields to the error on its way out, as `catch (AppError& e) { ...; throw; }` did,
// without the rethrow (a stack unwind per error response).
std::optional<http::Response> RateLimit::on_error(http::Request&, http::RequestContext& ctx,
                                                  std::exception* error) {
  auto* app_error = dynamic_cast<errors::AppError*>(error);
  if (ctx.rate_limit && app_error != nullptr) {
    ratelimit::add_headers(*app_error, policy_, *ctx.rate_limit);
  }
  return std::nullopt;
}

}  // namespace kit::middleware
