#include "kit/middleware/access_log.hpp"

#include "kit/http/router.hpp"

namespace kit::middleware {

boost::asio::awaitable<http::Response> AccessLog::handle(http::Request& req,
                                                         http::RequestContext& ctx,
                                                         http::Next next) {
  const auto log = ctx.log("http");
  const std::string_view path = http::target_path(req.target());
  log.debug("request_started", {{"method", req.method_string()}, {"path", path}});
  http::Response res = co_await next(req, ctx);
  const bool quiet = ctx.route_info != nullptr && ctx.route_info->quiet;
  const auto level = quiet ? kit::log::Level::debug : kit::log::Level::info;
  if (kit::log::enabled(level)) {
    const double duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.started)
            .count();
    log.log(level, "request_completed",
            {{"method", req.method_string()},
             {"path", path},
             {"route", ctx.route},
             {"status_code", res.result_int()},
             {"duration_ms", duration_ms},
             {"client_ip", ctx.client_ip},
             {"user_agent", req[http::Field::user_agent]}});
  }
  co_return res;
}

}  // namespace kit::middleware
