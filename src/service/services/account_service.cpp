#include "service/services/account_service.hpp"

#include "kit/security/opaque_token.hpp"

namespace user_service::services {

namespace {}  // namespace

AccountService::AccountService(repositories::AccountTokenRepository& tokens,
                               repositories::UserRepository& users,
                               kit::security::PasswordHasher& hasher, AccountMail mail,
                               Events events, Clock clock)
    : tokens_(tokens),
      users_(users),
      hasher_(hasher),
      mail_(std::move(mail)),
      events_(std::move(events)),
      clock_(std::move(clock)) {}

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

boost::asio::awaitable<domain::User> AccountService::verify_email(std::string token,
                                                                  kit::async::Deadline deadline) {
  const std::string hash = kit::security::opaque_token_hash(token);
  const domain::Timestamp now = now_of(clock_);
  const std::optional<repositories::UsableToken> usable =
      co_await tokens_.find_usable(hash, repositories::TokenPurpose::verify_email, now, deadline);
  // A token for an address the user no longer has proves nothing about the current one.
  if (!usable || usable->email != usable->user_email) throw InvalidToken();
  repositories::EmailVerification verification{
      .token_hash = hash, .user_id = usable->user_id, .email = usable->email, .at = now};
  if (!usable->user_email_verified) {
    verification.outbox = events_.user_email_verified(usable->user_id, usable->email, now);
  }
  deadline.check();
  std::optional<domain::User> user = co_await tokens_.verify_email(verification, deadline);
  if (!user) throw InvalidToken();  // spent or changed meanwhile
  co_return std::move(*user);
}

boost::asio::awaitable<bool> AccountService::resend_verification(const domain::User& me,
                                                                 kit::async::Deadline deadline) {
  if (me.email_verified) co_return false;
  IssuedEmail issued = mail_.issue(AccountEmail::verification, me, now_of(clock_));
  deadline.check();
  bool sent = true;  // without emails nothing is stored, only logged
  if (issued.token)
    sent = co_await tokens_.issue(*issued.token, std::move(issued.outbox), deadline);
  if (sent) mail_.log(AccountEmail::verification, me);
  co_return sent;
}

boost::asio::awaitable<bool> AccountService::request_password_reset(std::string email) {
  const std::optional<domain::User> user = co_await users_.find_by_email(email);
  if (!user) co_return false;
  IssuedEmail issued = mail_.issue(AccountEmail::password_reset, *user, now_of(clock_));
  bool sent = true;  // without emails nothing is stored, only logged
  if (issued.token) sent = co_await tokens_.issue(*issued.token, std::move(issued.outbox));
  if (sent) mail_.log(AccountEmail::password_reset, *user);
  co_return sent;
}

boost::asio::awaitable<domain::User> AccountService::reset_password(std::string token,
                                                                    std::string new_password,
                                                                    kit::async::Deadline deadline) {
  const std::string hash = kit::security::opaque_token_hash(token);
  // Checked before the argon2 work, so a wrong token costs no hash.
  const std::optional<repositories::UsableToken> usable = co_await tokens_.find_usable(
      hash, repositories::TokenPurpose::reset_password, now_of(clock_), deadline);
  if (!usable) throw InvalidToken();
  std::string password_hash = co_await hasher_.hash(std::move(new_password), deadline);
  repositories::PasswordReset reset{.token_hash = hash,
                                    .user_id = usable->user_id,
                                    .email = usable->email,
                                    .password_hash = std::move(password_hash)};
  deadline.check();  // a request answered 503 meanwhile changes nothing
  reset.at = now_of(clock_);
  reset.outbox = events_.user_password_changed(usable->user_id, reset.at);
  // The link reached the address: that proves it, as a verification link would.
  if (usable->email == usable->user_email && !usable->user_email_verified) {
    append(reset.outbox, events_.user_email_verified(usable->user_id, usable->email, reset.at));
  }
  std::optional<domain::User> user = co_await tokens_.reset_password(reset, deadline);
  if (!user) throw InvalidToken();  // spent meanwhile
  co_return std::move(*user);
}

boost::asio::awaitable<std::int64_t> AccountService::purge(std::size_t limit) {
  co_return co_await tokens_.purge(now_of(clock_) - std::chrono::hours(24), limit);
}

#pragma GCC diagnostic pop

}  // namespace user_service::services
