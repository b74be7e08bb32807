#include "service/api/routes/metrics.hpp"

namespace user_service::api {

namespace http = kit::http;

void register_metrics_routes(http::Router& router, const kit::metrics::Registry& registry) {
  const http::RouteInfo info{.summary = "Prometheus metrics",
                             .tags = {"metrics"},
                             .rate_limited = false,
                             .quiet = true,
                             .include_in_schema = false,
                             .waits = false};
  router.add(
      http::Verb::get, "/metrics",
      [&registry](http::Request& req,
                  http::RequestContext&) -> boost::asio::awaitable<http::Response> {
        http::Response res{http::Status::ok, req.version()};
        res.set(http::Field::content_type, kit::metrics::kContentType);
        res.body() = registry.render();
        res.prepare_payload();
        co_return res;
      },
      info);
}

}  // namespace user_service::api
