#include "kit/middleware/request_id.hpp"

#include "kit/util/uuid.hpp"

namespace kit::middleware {

void assign_correlation(const http::Request& req, http::RequestContext& ctx) {
  const auto id = req["X-Request-ID"];
  ctx.request_id = http::is_valid_request_id(id) ? std::string(id) : util::uuid_v4();
  ctx.trace = http::make_trace_context(req["traceparent"]);
  ctx.bind_log_context();
}

std::optional<http::Response> RequestId::before(http::Request& req, http::RequestContext& ctx) {
  assign_correlation(req, ctx);
  return std::nullopt;
}

void RequestId::after(http::Request&, http::RequestContext& ctx, http::Response& res) {
  res.set("X-Request-ID", ctx.request_id);
}

}  // namespace kit::middleware
