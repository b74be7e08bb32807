#pragma once
// Security headers on every response, errors included (SPEC §3). A response that already set
// its own Content-Security-Policy or Cache-Control (the docs pages) keeps it.
#include "kit/http/pipeline.hpp"

namespace kit::middleware {

class SecurityHeaders final : public http::HookMiddleware {
 public:
  explicit SecurityHeaders(bool hsts) : hsts_(hsts) {}
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;

 private:
  bool hsts_;
};

}  // namespace kit::middleware
