#pragma once
// First link: gives the request its id (the client's X-Request-ID when valid, else a new UUID)
// and its W3C trace context, binds both into the request's log lines, and echoes the id.
#include "kit/http/pipeline.hpp"

namespace kit::middleware {

class RequestId final : public http::HookMiddleware {
 public:
  std::optional<http::Response> before(http::Request& req, http::RequestContext& ctx) override;
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;
};

// Fills ctx.request_id and ctx.trace from the request headers (also used by the server when it
// must answer a protocol error).
void assign_correlation(const http::Request& req, http::RequestContext& ctx);

}  // namespace kit::middleware
