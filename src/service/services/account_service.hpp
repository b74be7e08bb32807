#pragma once
// The account email flows without HTTP (docs/account-emails.md): verifying an email address,
// sending the link again, and resetting a forgotten password. Tokens are single-use, stored only
// hashed; every change is written with its events and its email (outbox).
#include <string>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/security/password_hasher.hpp"
#include "service/domain/user.hpp"
#include "service/repositories/account_token_repository.hpp"
#include "service/repositories/user_repository.hpp"
#include "service/services/account_errors.hpp"
#include "service/services/account_mail.hpp"
#include "service/services/events.hpp"
#include "service/services/user_service.hpp"

namespace user_service::services {

class AccountService {
 public:
  AccountService(
      repositories::AccountTokenRepository& tokens, repositories::UserRepository& users,
      kit::security::PasswordHasher& hasher, AccountMail mail, Events events = Events(),
      Clock clock = [] { return std::chrono::system_clock::now(); });

  // Spends a verification token: the user, its email verified. Throws InvalidToken (400) for a
  // token that is unknown, spent, expired or sent to an address the user no longer has.
  boost::asio::awaitable<domain::User> verify_email(std::string token,
                                                    kit::async::Deadline deadline = {});
  // A new verification email for `me`, unless the address is verified already. Returns whether
  // one was sent (or logged, without an email destination).
  boost::asio::awaitable<bool> resend_verification(const domain::User& me,
                                                   kit::async::Deadline deadline = {});
  // A reset email to the user with this address, when there is one; nothing otherwise. Meant to
  // run after the request was answered, so that its time tells nothing. Returns whether an
  // email was sent (or logged).
  boost::asio::awaitable<bool> request_password_reset(std::string email);
  // Spends a reset token: the new password, the email verified when the token was sent to the
  // user's address, and every session of the user revoked. Returns the user. Throws
  // InvalidToken (400).
  boost::asio::awaitable<domain::User> reset_password(std::string token, std::string new_password,
                                                      kit::async::Deadline deadline = {});

  // Deletes tokens that expired more than a day ago, up to `limit`; returns how many.
  boost::asio::awaitable<std::int64_t> purge(std::size_t limit);

 private:
  repositories::AccountTokenRepository& tokens_;
  repositories::UserRepository& users_;
  kit::security::PasswordHasher& hasher_;
  AccountMail mail_;
  Events events_;
  Clock clock_;
};

}  // namespace user_service::services
