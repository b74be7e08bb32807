#pragma once
// POST /api/v1/auth/token (docs/http-api.md "Authentication", docs/sessions.md).
#include <functional>

#include "kit/http/router.hpp"
#include "kit/ratelimit/guard.hpp"
#include "service/services/auth_service.hpp"

namespace user_service::api {

// Counts one refresh grant by how it ended (refresh_total{result}); may be empty.
using RefreshCounter = std::function<void(services::RefreshResult)>;

// `guard` applies the `auth` policy (LOGIN_RATE_LIMIT_PER_MINUTE) through PasswordBudget: per
// client (both grants) and per account (password grant), budgets shared with
// PATCH /api/v1/users/me.
void register_auth_routes(kit::http::Router& router, services::AuthService& auth,
                          const kit::ratelimit::Guard& guard, RefreshCounter counter);

}  // namespace user_service::api
