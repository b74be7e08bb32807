#include "kit/middleware/security_headers.hpp"

namespace kit::middleware {

boost::asio::awaitable<http::Response> SecurityHeaders::handle(http::Request& req,
                                                               http::RequestContext& ctx,
                                                               http::Next next) {
  http::Response res = co_await next(req, ctx);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  if (res.find("Content-Security-Policy") == res.end()) {
    res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  if (res.find(http::Field::cache_control) == res.end()) {
    res.set(http::Field::cache_control, "no-store");
  }
  if (hsts_) res.set(http::Field::strict_transport_security, "max-age=63072000; includeSubDomains");
  co_return res;
}

}  // namespace kit::middleware
