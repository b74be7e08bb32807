#include "kit/middleware/security_headers.hpp"

namespace kit::middleware {

void SecurityHeaders::after(http::Request&, http::RequestContext&, http::Response& res) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set(http::Field::x_frame_options, "DENY");  // Beast spells it the same, without a lookup
  res.set("Referrer-Policy", "no-referrer");
  if (res.find("Content-Security-Policy") == res.end()) {
    res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  if (res.find(http::Field::cache_control) == res.end()) {
    res.set(http::Field::cache_control, "no-store");
  }
  if (hsts_) res.set(http::Field::strict_transport_security, "max-age=63072000; includeSubDomains");
}

}  // namespace kit::middleware
