#include "service/api/routes/health.hpp"

#include <algorithm>
#include <cmath>

#include "kit/http/response.hpp"
#include "kit/json/writer.hpp"

namespace user_service::api {

namespace http = kit::http;

void register_health_routes(http::Router& router, const kit::health::Registry& checks,
                            const std::atomic<bool>& shutting_down) {
  const http::RouteInfo probe{.summary = "",
                              .tags = {"health"},
                              .rate_limited = false,
                              .quiet = true,
                              .include_in_schema = true};

  // Liveness touches no dependency: it answers as long as the process serves HTTP.
  http::RouteInfo live = probe;
  live.summary = "Liveness probe";
  live.waits = false;
  live.openapi = {.operation_id = "liveness",
                  .responses = {{200, "The process serves HTTP", "LivenessResponse"}}};
  router.add(
      http::Verb::get, "/health/live",
      [](http::Request&, http::RequestContext&) -> boost::asio::awaitable<http::Response> {
        co_return http::json_response(http::Status::ok, R"({"status":"alive"})");
      },
      live);

  http::RouteInfo ready = probe;
  ready.summary = "Readiness probe: every dependency check passes";
  ready.openapi = {.operation_id = "readiness",
                   .responses = {{200, "Every check passed", "ReadinessResponse"},
                                 {503, "A check failed (degraded) or the service is shutting down",
                                  "ReadinessResponse"}}};
  router.add(
      http::Verb::get, "/health/ready",
      [&checks, &shutting_down](http::Request&,
                                http::RequestContext&) -> boost::asio::awaitable<http::Response> {
        if (shutting_down.load(std::memory_order_acquire)) {
          http::Response res = http::json_response(http::Status::service_unavailable,
                                                   R"({"status":"shutting_down"})");
          res.set(http::Field::retry_after, "5");
          co_return res;
        }
        const auto results = co_await checks.run();
        const bool ok =
            std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok; });
        kit::json::Writer w(256);
        w.begin_object();
        w.field("status", ok ? "ready" : "degraded");
        w.key("checks").begin_object();
        for (const auto& r : results) {
          w.key(r.name).begin_object();
          if (r.ok) {
            w.field("status", "ok");
            w.field("duration_ms", std::round(r.duration_ms * 1000.0) / 1000.0);
          } else {
            w.field("status", "error");
            w.field("message", r.message);
          }
          w.end_object();
        }
        w.end_object().end_object();
        std::string body = std::move(w).str();
        http::Response res = http::json_response(
            ok ? http::Status::ok : http::Status::service_unavailable, std::move(body));
        if (!ok) res.set(http::Field::retry_after, "5");
        co_return res;
      },
      ready);
}

}  // namespace user_service::api
