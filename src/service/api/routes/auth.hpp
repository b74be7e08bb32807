#pragma once
// POST /api/v1/auth/token (docs/http-api.md "Authentication").
#include "kit/http/router.hpp"
#include "kit/ratelimit/guard.hpp"
#include "service/services/auth_service.hpp"

namespace user_service::api {

// `guard` applies the `auth` policy (LOGIN_RATE_LIMIT_PER_MINUTE) through PasswordBudget: per
// client and per account, budgets shared with PATCH /api/v1/users/me.
void register_auth_routes(kit::http::Router& router, services::AuthService& auth,
                          const kit::ratelimit::Guard& guard);

}  // namespace user_service::api
