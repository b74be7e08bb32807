#pragma once
// Logs `request_completed` for every request (docs/operations.md "Logs") with method, path, route,
// status, duration, client and user agent; `request_started` at debug. Quiet routes (health,
// metrics) log at debug only. Observers (metrics) are told about each completed request.
#include <functional>

#include "kit/http/pipeline.hpp"

namespace kit::middleware {

class AccessLog final : public http::HookMiddleware {
 public:
  std::optional<http::Response> before(http::Request& req, http::RequestContext& ctx) override;
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;
};

}  // namespace kit::middleware
