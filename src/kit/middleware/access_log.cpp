#include "kit/middleware/access_log.hpp"

#include "kit/http/router.hpp"

namespace kit::middleware {

std::optional<http::Response> AccessLog::before(http::Request& req, http::RequestContext& ctx) {
  if (kit::log::enabled(kit::log::Level::debug)) {
    ctx.log("http").debug("request_started", {{"method", req.method_string()},
                                              {"path", http::target_path(req.target())}});
  }
  return std::nullopt;
}

void AccessLog::after(http::Request& req, http::RequestContext& ctx, http::Response& res) {
  const bool quiet = ctx.route_info != nullptr && ctx.route_info->quiet;
  const auto level = quiet ? kit::log::Level::debug : kit::log::Level::info;
  if (!kit::log::enabled(level)) return;
  const double duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.started)
          .count();
  ctx.log("http").log(level, "request_completed",
                      {{"method", req.method_string()},
                       {"path", http::target_path(req.target())},
                       {"route", ctx.route},
                       {"status_code", res.result_int()},
                       {"duration_ms", duration_ms},
                       {"client_ip", ctx.client_ip},
                       {"user_agent", req[http::Field::user_agent]}});
}

}  // namespace kit::middleware
