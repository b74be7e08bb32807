#pragma once
// The account emails as outbox messages (docs/account-emails.md): written with the change that
// sends them, delivered by the dispatcher to the destination named "email" (the HTTP email
// service or SMTP). Without an email destination nothing is written and the service logs
// that an email was not sent, never its token.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kit/outbox/message.hpp"
#include "service/domain/user.hpp"
#include "service/emails/account_emails.hpp"
#include "service/repositories/account_token_repository.hpp"

namespace user_service::services {

enum class AccountEmail { verification, password_reset };

inline std::string_view to_string(AccountEmail kind) noexcept {
  return kind == AccountEmail::verification ? "email.verify_email" : "email.reset_password";
}

// How long a link works.
inline constexpr std::chrono::hours kVerificationLifetime{24};
inline constexpr std::chrono::minutes kResetLifetime{30};

// A new single-use token, as stored (hash only), and the email that carries it. Both are empty
// when emails are not sent: a token nobody can receive is not made or stored.
struct IssuedEmail {
  std::optional<repositories::NewAccountToken> token;
  std::vector<kit::outbox::Message> outbox;
};

class AccountMail {
 public:
  // Emails are not sent (development): they are logged without their tokens.
  AccountMail() = default;
  // Emails go to the outbox destination `destination`.
  AccountMail(emails::AccountEmails emails, std::string destination);

  bool sends() const noexcept { return emails_.has_value(); }

  // The email's outbox message (type to_string(kind), ordered with the user's events), or none
  // when emails are not sent. `token` goes into the message only: the outbox row holds it
  // until the email is delivered, then its body is erased (docs/account-emails.md).
  std::vector<kit::outbox::Message> message(AccountEmail kind, const domain::User& to,
                                            std::string_view token, domain::Timestamp at) const;

  // A new token for `to` (its id and current address) and its email, made at `at` (nothing
  // when emails are not sent).
  IssuedEmail issue(AccountEmail kind, const domain::User& to, domain::Timestamp at) const;

  // After the change committed: the email is on its way, or (not sent) logged at info with its
  // recipient and kind, never its token.
  void log(AccountEmail kind, const domain::User& to) const;

 private:
  std::optional<emails::AccountEmails> emails_;
  std::string destination_;
};

}  // namespace user_service::services
