#pragma once
// /api/v1/users routes (docs/http-api.md "Routes").
#include "kit/http/router.hpp"
#include "kit/ratelimit/guard.hpp"
#include "service/api/dependencies.hpp"
#include "service/services/user_service.hpp"

namespace user_service::api {

// `guard` applies the `auth` policy (LOGIN_RATE_LIMIT_PER_MINUTE): per client on registration, and
// through PasswordBudget on PATCH /api/v1/users/me when it verifies current_password.
void register_user_routes(kit::http::Router& router, services::UserService& users,
                          const CurrentUser& current, const kit::ratelimit::Guard& guard);

// `User with identifier '<id>' not found`, the id cut at 100 characters (the envelope writer
// JSON-escapes it and replaces invalid UTF-8).
std::string user_not_found_message(std::string_view id);

}  // namespace user_service::api
