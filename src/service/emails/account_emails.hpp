#pragma once
// The emails of the account flows (docs/account-emails.md), rendered from the templates kept in
// templates/email/ (built into the binary): a subject, a plain-text and an HTML body, with the
// link built from PUBLIC_BASE_URL. Values are HTML-escaped in the HTML body.
#include <string>
#include <string_view>

#include "kit/outbox/email_destinations.hpp"

namespace user_service::emails {

class AccountEmails {
 public:
  // `public_base_url`: scheme://host[:port][/path] without a trailing '/'.
  AccountEmails(std::string app_name, std::string public_base_url);

  // The link <public_base_url>/verify-email?token=<token>, valid 24 hours.
  kit::outbox::Email verification(std::string_view to, std::string_view name,
                                  std::string_view token) const;
  // The link <public_base_url>/reset-password?token=<token>, valid 30 minutes.
  kit::outbox::Email password_reset(std::string_view to, std::string_view name,
                                    std::string_view token) const;

 private:
  std::string app_name_;
  std::string public_base_url_;
};

}  // namespace user_service::emails
