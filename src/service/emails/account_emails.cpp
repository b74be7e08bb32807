#include "service/emails/account_emails.hpp"

#include <string>
#include <utility>

#include "service/emails/templates.hpp"

namespace user_service::emails {

namespace {

// One email of the account flows: its templates, link and lifetime (docs/account-emails.md).
struct Kind {
  std::string_view subject;
  std::string_view text;
  std::string_view html;
  std::string_view path;
  std::string_view expires_in;
};

constexpr Kind kVerification{.subject = "verify_email.subject",
                             .text = "verify_email.txt",
                             .html = "verify_email.html",
                             .path = "/verify-email?token=",
                             .expires_in = "24 hours"};
constexpr Kind kPasswordReset{.subject = "reset_password.subject",
                              .text = "reset_password.txt",
                              .html = "reset_password.html",
                              .path = "/reset-password?token=",
                              .expires_in = "30 minutes"};

bool unreserved(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Tokens are base64url and need no encoding; anything else is encoded all the same, so a
// token can never end the query value or the link (RFC 3986 unreserved characters only).
std::string percent_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (unreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

// A subject is a mail header: a CR or LF in it would start another header.
std::string header_safe(std::string subject) {
  std::erase_if(subject, [](char c) { return c == '\r' || c == '\n'; });
  const auto first = subject.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = subject.find_last_not_of(" \t");
  return subject.substr(first, last - first + 1);
}

kit::outbox::Email render_email(const Kind& kind, std::string_view app_name,
                                std::string_view base_url, std::string_view to,
                                std::string_view name, std::string_view token) {
  const std::string link = std::string(base_url) + std::string(kind.path) + percent_encode(token);
  const auto fill = [&](Escape escape, std::string_view tmpl) {
    return render(tmpl,
                  {{.name = "app_name", .value = app_name},
                   {.name = "name", .value = name},
                   {.name = "email", .value = to},
                   {.name = "link", .value = link},
                   {.name = "expires_in", .value = kind.expires_in}},
                  escape);
  };
  return kit::outbox::Email{
      .to = std::string(to),
      .subject = header_safe(fill(Escape::none, email_template(kind.subject))),
      .text = fill(Escape::none, email_template(kind.text)),
      .html = fill(Escape::html, email_template(kind.html))};
}

}  // namespace

AccountEmails::AccountEmails(std::string app_name, std::string public_base_url)
    : app_name_(std::move(app_name)), public_base_url_(std::move(public_base_url)) {
  while (public_base_url_.ends_with('/')) public_base_url_.pop_back();
  // A template missing from the build fails here, at start-up, rather than at the first email.
  for (const Kind* kind : {&kVerification, &kPasswordReset}) {
    for (const auto name : {kind->subject, kind->text, kind->html}) (void)email_template(name);
  }
}

kit::outbox::Email AccountEmails::verification(std::string_view to, std::string_view name,
                                               std::string_view token) const {
  return render_email(kVerification, app_name_, public_base_url_, to, name, token);
}

kit::outbox::Email AccountEmails::password_reset(std::string_view to, std::string_view name,
                                                 std::string_view token) const {
  return render_email(kPasswordReset, app_name_, public_base_url_, to, name, token);
}

}  // namespace user_service::emails
