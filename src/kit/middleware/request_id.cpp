#include "kit/middleware/request_id.hpp"

#include "kit/util/uuid.hpp"

namespace kit::middleware {

void assign_correlation(const http::Request& req, http::RequestContext& ctx) {
  const auto id = req["X-Request-ID"];
  if (http::is_valid_request_id(id)) {
    ctx.request_id.assign(id);
  } else {
    util::uuid_v4_into(ctx.request_id);
  }
  http::assign_trace_context(req["traceparent"], ctx.trace);
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
