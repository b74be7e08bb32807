#include "kit/middleware/request_id.hpp"

#include "kit/util/uuid.hpp"

namespace kit::middleware {

void assign_correlation(const http::Request& req, http::RequestContext& ctx) {
  const auto id = req["X-Request-ID"];
  ctx.request_id = http::is_valid_request_id(id) ? std::string(id) : util::uuid_v4();
  ctx.trace = http::make_trace_context(req["traceparent"]);
  ctx.bind_log_context();
}

boost::asio::awaitable<http::Response> RequestId::handle(http::Request& req,
                                                         http::RequestContext& ctx,
                                                         http::Next next) {
  assign_correlation(req, ctx);
  http::Response res = co_await next(req, ctx);
  res.set("X-Request-ID", ctx.request_id);
  co_return res;
}

}  // namespace kit::middleware
