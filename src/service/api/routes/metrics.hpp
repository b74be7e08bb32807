#pragma once
// GET /metrics (docs/http-api.md): the registry in the Prometheus text format 0.0.4. Registered
// only when METRICS_ENABLED, so otherwise the path is an ordinary 404. Never rate limited,
// access-logged at debug level, and left out of the OpenAPI document as FastAPI apps do.
#include "kit/http/router.hpp"
#include "kit/metrics/registry.hpp"

namespace user_service::api {

void register_metrics_routes(kit::http::Router& router, const kit::metrics::Registry& registry);

}  // namespace user_service::api
