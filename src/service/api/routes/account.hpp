#pragma once
// The account email routes (docs/account-emails.md): POST /api/v1/auth/verify-email,
// /auth/verify-email/resend, /auth/password-reset/request and /auth/password-reset.
#include "kit/async/background.hpp"
#include "kit/http/router.hpp"
#include "kit/ratelimit/guard.hpp"
#include "service/api/dependencies.hpp"
#include "service/services/account_service.hpp"

namespace user_service::api {

// `guard` applies the `auth` policy (LOGIN_RATE_LIMIT_PER_MINUTE): per client and per address on
// reset requests, per client on resets, per user on resends. `background` runs what a reset
// request does after its 202.
void register_account_routes(kit::http::Router& router, services::AccountService& accounts,
                             const CurrentUser& current, const kit::ratelimit::Guard& guard,
                             kit::async::Background& background);

}  // namespace user_service::api
