#pragma once
// Security headers on every response, errors included
// (docs/http-api.md "Headers on every response"). A response that already set its own
// Content-Security-Policy or Cache-Control (the docs pages) keeps it.
//
// The fields are the same bytes on every response, so they are rendered once, in the four
// variants (the handler's own CSP and Cache-Control kept or not), and handed to the server as
// RequestContext::fixed_headers instead of being inserted into each response.
#include <array>
#include <string>

#include "kit/http/pipeline.hpp"

namespace kit::middleware {

class SecurityHeaders final : public http::HookMiddleware {
 public:
  explicit SecurityHeaders(bool hsts);
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;

 private:
  // Indexed by (has its own CSP ? 1 : 0) + (has its own Cache-Control ? 2 : 0).
  std::array<std::string, 4> lines_;
  bool hsts_;
};

}  // namespace kit::middleware
