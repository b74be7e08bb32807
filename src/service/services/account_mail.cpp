#include "service/services/account_mail.hpp"

#include <sodium.h>

#include <chrono>

#include "kit/log/log.hpp"
#include "kit/security/opaque_token.hpp"
#include "kit/util/uuid.hpp"

namespace user_service::services {

AccountMail::AccountMail(emails::AccountEmails emails, std::string destination)
    : emails_(std::move(emails)), destination_(std::move(destination)) {}

std::vector<kit::outbox::Message> AccountMail::message(AccountEmail kind, const domain::User& to,
                                                       std::string_view token,
                                                       domain::Timestamp at) const {
  if (!emails_) return {};
  const kit::outbox::Email email = kind == AccountEmail::verification
                                       ? emails_->verification(to.email, to.name, token)
                                       : emails_->password_reset(to.email, to.name, token);
  std::vector<kit::outbox::Message> out;
  out.push_back(
      kit::outbox::Message{.id = kit::util::uuid_v7(std::chrono::system_clock::time_point(at)),
                           .destination = destination_,
                           .ordering_key = to.id,
                           .type = std::string(to_string(kind)),
                           .payload = kit::outbox::email_payload(email)});
  return out;
}

IssuedEmail AccountMail::issue(AccountEmail kind, const domain::User& to,
                               domain::Timestamp at) const {
  if (!sends()) return {};
  kit::security::OpaqueToken token = kit::security::new_opaque_token();
  const bool verification = kind == AccountEmail::verification;
  IssuedEmail issued{
      .token =
          repositories::NewAccountToken{
              .hash = std::move(token.hash),
              .purpose = verification ? repositories::TokenPurpose::verify_email
                                      : repositories::TokenPurpose::reset_password,
              .user_id = to.id,
              .email = to.email,
              .created_at = at,
              .expires_at =
                  at + (verification ? std::chrono::duration_cast<std::chrono::microseconds>(
                                           kVerificationLifetime)
                                     : std::chrono::duration_cast<std::chrono::microseconds>(
                                           kResetLifetime))},
      .outbox = message(kind, to, token.token, at)};
  sodium_memzero(token.token.data(), token.token.size());
  return issued;
}

void AccountMail::log(AccountEmail kind, const domain::User& to) const {
  if (emails_) {
    kit::log::info("email", "email_queued", {{"type", to_string(kind)}, {"user_id", to.id}});
  } else {
    kit::log::info("email", "email_not_sent",
                   {{"type", to_string(kind)},
                    {"user_id", to.id},
                    {"to", to.email},
                    {"reason", "no email destination configured (EMAIL_SERVICE_URL, SMTP_URL)"}});
  }
}

}  // namespace user_service::services
