#pragma once
// GET /health/live and GET /health/ready (docs/http-api.md).
#include <atomic>

#include "kit/health/registry.hpp"
#include "kit/http/router.hpp"

namespace user_service::api {

void register_health_routes(kit::http::Router& router, const kit::health::Registry& checks,
                            const std::atomic<bool>& shutting_down);

}  // namespace user_service::api
