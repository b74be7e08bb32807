#include "kit/middleware/security_headers.hpp"

#include <string_view>

#include "kit/http/response.hpp"

namespace kit::middleware {

namespace {

constexpr std::string_view kCsp = "default-src 'none'; frame-ancestors 'none'";
constexpr std::string_view kHsts = "max-age=63072000; includeSubDomains";

}  // namespace

SecurityHeaders::SecurityHeaders(bool hsts) : hsts_(hsts) {
  for (std::size_t variant = 0; variant < lines_.size(); ++variant) {
    const bool own_csp = (variant & 1) != 0;
    const bool own_cache_control = (variant & 2) != 0;
    std::string& lines = lines_[variant];
    lines = http::header_lines({{"X-Content-Type-Options", "nosniff"},
                                {"X-Frame-Options", "DENY"},
                                {"Referrer-Policy", "no-referrer"}});
    if (!own_csp) lines += http::header_lines({{"Content-Security-Policy", kCsp}});
    if (!own_cache_control) lines += http::header_lines({{"Cache-Control", "no-store"}});
    if (hsts) lines += http::header_lines({{"Strict-Transport-Security", kHsts}});
  }
}

void SecurityHeaders::after(http::Request&, http::RequestContext& ctx, http::Response& res) {
  // These are ours alone: a value an inner link or handler set is replaced, as set() did.
  res.erase("X-Content-Type-Options");
  res.erase(http::Field::x_frame_options);
  res.erase("Referrer-Policy");
  if (hsts_) res.erase(http::Field::strict_transport_security);
  const bool own_csp = res.find("Content-Security-Policy") != res.end();
  const bool own_cache_control = res.find(http::Field::cache_control) != res.end();
  ctx.fixed_headers = lines_[(own_csp ? 1 : 0) + (own_cache_control ? 2 : 0)];
}

}  // namespace kit::middleware
