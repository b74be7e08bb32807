#pragma once
// Security headers on every response, errors included (SPEC §3). A response that already set
// its own Content-Security-Policy or Cache-Control (the docs pages) keeps it.
#include "kit/http/pipeline.hpp"

namespace kit::middleware {

class SecurityHeaders final : public http::Middleware {
 public:
  explicit SecurityHeaders(bool hsts) : hsts_(hsts) {}
  boost::asio::awaitable<http::Response> handle(http::Request& req, http::RequestContext& ctx,
                                                http::Next next) override;

 private:
  bool hsts_;
};

}  // namespace kit::middleware
