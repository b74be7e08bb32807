#pragma once
// The errors of the account email flows (docs/account-emails.md), rendered into the envelope by
// the error middleware like the kit's own.
#include "kit/errors/app_error.hpp"

namespace user_service::services {

// A verification or reset token that is unknown, spent, expired, or (verification) sent to an
// address that is no longer the user's. One message for all, so the answer does not tell them
// apart.
struct InvalidToken : kit::errors::AppError {
  InvalidToken()
      : AppError(400, "INVALID_TOKEN", "The token is invalid, expired or already used") {}
};

// REQUIRE_VERIFIED_EMAIL: the right password of a user who has not verified the address.
struct EmailNotVerified : kit::errors::AppError {
  EmailNotVerified()
      : AppError(403, "EMAIL_NOT_VERIFIED",
                 "Verify your email address before signing in: follow the link in the email we "
                 "sent, or reset your password") {}
};

}  // namespace user_service::services
