#pragma once
// POST /api/v1/auth/token (SPEC §3 "Authentication").
#include "kit/http/router.hpp"
#include "service/services/auth_service.hpp"

namespace user_service::api {

void register_auth_routes(kit::http::Router& router, services::AuthService& auth);

}  // namespace user_service::api
