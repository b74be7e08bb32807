#pragma once
// Logs `request_completed` for every request (SPEC §4) with method, path, route, status,
// duration, client and user agent; `request_started` at debug. Quiet routes (health, metrics)
// log at debug only. Observers (metrics) are told about each completed request.
#include <functional>

#include "kit/http/pipeline.hpp"

namespace kit::middleware {

class AccessLog final : public http::Middleware {
 public:
  boost::asio::awaitable<http::Response> handle(http::Request& req, http::RequestContext& ctx,
                                                http::Next next) override;
};

}  // namespace kit::middleware
