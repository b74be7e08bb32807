#pragma once
// The session routes (docs/sessions.md): the caller's sessions, logout, and an admin's
// revocation of every session of a user.
#include "kit/http/router.hpp"
#include "service/api/dependencies.hpp"
#include "service/services/session_service.hpp"
#include "service/services/user_service.hpp"

namespace user_service::api {

void register_session_routes(kit::http::Router& router, services::SessionService& sessions,
                             services::UserService& users, const CurrentUser& current);

}  // namespace user_service::api
