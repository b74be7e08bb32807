#pragma once
// GET /openapi.json, GET /docs (Swagger UI) and GET /redoc (ReDoc) (docs/http-api.md). Only
// registered when DOCS_ENABLED, so otherwise all three are 404. Never rate limited, and not in
// the document themselves.
#include "kit/http/router.hpp"
#include "service/settings.hpp"

namespace user_service::api {

// Register LAST: the document is built here, once, from the routes registered before.
void register_docs_routes(kit::http::Router& router, const Settings& settings);

}  // namespace user_service::api
