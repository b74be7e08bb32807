#pragma once
// The single-use tokens sent by email (docs/account-emails.md): email verification and password
// reset, stored only as the SHA-256 of the token (hex), with what spending one changes.
// Implemented for PostgreSQL (pg_account_token_repository) and SQLite
// (sqlite_account_token_repository) and tested with one suite against both. Each change is one
// statement or one transaction, written with its outbox messages.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/outbox/message.hpp"
#include "service/domain/user.hpp"

namespace user_service::repositories {

enum class TokenPurpose { verify_email, reset_password };

inline std::string_view to_string(TokenPurpose purpose) noexcept {
  return purpose == TokenPurpose::verify_email ? "verify_email" : "reset_password";
}

struct NewAccountToken {
  std::string hash;  // SHA-256 of the token, lowercase hex
  TokenPurpose purpose = TokenPurpose::verify_email;
  std::string user_id;
  std::string email;  // the address the token is sent to (normalized)
  domain::Timestamp created_at{};
  domain::Timestamp expires_at{};
};

// A token that can still be spent, and its user as it is now.
struct UsableToken {
  std::string user_id;
  std::string email;       // the address the token was sent to
  std::string user_email;  // the user's address now
  bool user_email_verified = false;
};

struct EmailVerification {
  std::string token_hash;
  std::string user_id;  // UsableToken::user_id
  std::string email;    // UsableToken::email: verified only while it is still the user's
  domain::Timestamp at{};
  // user.email_verified; written only when the email was not verified yet.
  std::vector<kit::outbox::Message> outbox = {};
};

struct PasswordReset {
  std::string token_hash;
  std::string user_id;  // UsableToken::user_id
  std::string email;    // UsableToken::email: when it is the user's address, it is verified too
  std::string password_hash;
  domain::Timestamp at{};
  // user.password_changed (and user.email_verified when the reset verifies the address); the
  // session.revoked events are written by the repository, one per revoked session.
  std::vector<kit::outbox::Message> outbox = {};
};

class AccountTokenRepository {
 public:
  virtual ~AccountTokenRepository() = default;

  // Stores `token` and writes `outbox` (its email) in one transaction, only when the user
  // `token.user_id` exists and its address is still `token.email`. Returns whether it did.
  virtual boost::asio::awaitable<bool> issue(const NewAccountToken& token,
                                             std::vector<kit::outbox::Message> outbox,
                                             kit::async::Deadline deadline = {}) = 0;
  // The token of `purpose` with this hash when it is unspent and unexpired at `now`, with its
  // user (nullopt otherwise, or when the user is gone).
  virtual boost::asio::awaitable<std::optional<UsableToken>> find_usable(
      std::string_view token_hash, TokenPurpose purpose, domain::Timestamp now,
      kit::async::Deadline deadline = {}) = 0;
  // Atomically: when the verification token is still unspent and unexpired at `at` and its
  // address is still the user's, spends it and marks the email verified (updated_at = at if it
  // was not). Returns the user, or nullopt when nothing was done. Of two concurrent calls with
  // one token, at most one returns a user.
  virtual boost::asio::awaitable<std::optional<domain::User>> verify_email(
      const EmailVerification& verification, kit::async::Deadline deadline = {}) = 0;
  // Atomically: when the reset token is still unspent and unexpired at `at`, spends it and
  // every other unspent reset token of the user, sets the password hash, verifies the email
  // when the token was sent to the user's address, and revokes every active session of the
  // user (reason `password_reset`, a session.revoked event each). Returns the user, or nullopt
  // when nothing was done. Of two concurrent calls with one token, at most one returns a user.
  virtual boost::asio::awaitable<std::optional<domain::User>> reset_password(
      const PasswordReset& reset, kit::async::Deadline deadline = {}) = 0;
  // Deletes up to `limit` tokens that expired before `before`; returns how many. Safe to run on
  // any number of replicas at once.
  virtual boost::asio::awaitable<std::int64_t> purge(domain::Timestamp before,
                                                     std::size_t limit) = 0;
};

}  // namespace user_service::repositories
