#pragma once
// CORS (CORS_ALLOW_ORIGINS / CORS_ALLOW_CREDENTIALS in docs/configuration.md; docs/http-api.md
// "CORS"). Installed only when origins are configured (an empty list = CORS off: no headers,
// OPTIONS gets the router's 405).
//
// - Every response gets `Vary: Origin` (caches must not reuse an answer across origins).
// - A request from an allowed origin gets Access-Control-Allow-Origin (the origin itself, or
//   `*` for the wildcard without credentials), Access-Control-Allow-Credentials when enabled,
//   and Access-Control-Expose-Headers (request id, rate-limit fields, Location, Retry-After).
//   Error responses too: this link sits outside ErrorMapping.
// - A preflight (OPTIONS + Access-Control-Request-Method) is answered here and never reaches
//   the router (no 405): 204 with allowed methods, headers and max-age when the origin and the
//   method are allowed. A refused preflight gets a plain 204 WITHOUT any CORS header — the
//   browser then blocks the real request, and the service neither spends an error envelope
//   nor reveals its allow-list (the same answer a CORS-unaware server gives).
// - `*` with credentials is refused at construction (std::invalid_argument); settings refuse it
//   earlier with a configuration error.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "kit/http/pipeline.hpp"

namespace kit::middleware {

struct CorsOptions {
  std::vector<std::string> allow_origins;  // exact origins ("https://app.example.com") or {"*"}
  bool allow_credentials = false;
  std::vector<std::string> allow_methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  std::vector<std::string> allow_headers{"Authorization", "Content-Type", "X-Request-ID",
                                         "traceparent", "tracestate"};
  std::vector<std::string> expose_headers{"X-Request-ID", "Location", "Retry-After", "RateLimit",
                                          "RateLimit-Policy"};
  std::chrono::seconds max_age{600};
};

class Cors final : public http::HookMiddleware {
 public:
  explicit Cors(CorsOptions options);

  // A preflight is answered here; every other response is decorated.
  std::optional<http::Response> before(http::Request& req, http::RequestContext& ctx) override;
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;

  // Pure decisions, for tests.
  bool origin_allowed(std::string_view origin) const;
  bool method_allowed(std::string_view method) const;
  // Answers a preflight (the request has Origin and Access-Control-Request-Method).
  http::Response preflight(const http::Request& req) const;
  // Adds the simple-request headers to `res` for the request's Origin (if any).
  void decorate(const http::Request& req, http::Response& res) const;

 private:
  CorsOptions options_;
  bool wildcard_ = false;
  std::string methods_;  // joined with ", "
  std::string headers_;
  std::string expose_;
};

}  // namespace kit::middleware
