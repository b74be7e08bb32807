// The account emails (docs/account-emails.md "Email templates"): every template renders with no
// placeholder left, the links are exact, user values are HTML-escaped in the HTML body and a
// subject never carries a line break into the mail headers.
#include "service/emails/account_emails.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "service/emails/templates.hpp"

namespace user_service::emails {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// 43 base64url characters, as the services issue them.
constexpr std::string_view kToken = "Ab9-_xYz0123456789abcdefghijklmnopqrstuvwxy";
static_assert(kToken.size() == 43);
constexpr std::string_view kBase = "https://users.example.com";

std::size_t occurrences(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size()))
    ++n;
  return n;
}

std::vector<kit::outbox::Email> both(const AccountEmails& emails, std::string_view to,
                                     std::string_view name, std::string_view token) {
  return {emails.verification(to, name, token), emails.password_reset(to, name, token)};
}

TEST(AccountEmails, VerificationLinksToVerifyEmailForADay) {
  const AccountEmails emails("Acme", std::string(kBase));
  const auto email = emails.verification("ada@example.com", "Ada", kToken);
  const std::string link = std::string(kBase) + "/verify-email?token=" + std::string(kToken);

  EXPECT_EQ(email.to, "ada@example.com");
  EXPECT_EQ(email.subject, "Verify your email address for Acme");
  EXPECT_THAT(email.text, AllOf(StartsWith("Hi Ada,\n"), HasSubstr("\n" + link + "\n"),
                                HasSubstr("ada@example.com"), HasSubstr("24 hours")));
  EXPECT_THAT(email.html,
              AllOf(HasSubstr("href=\"" + link + "\""), HasSubstr(">" + link + "<"),
                    HasSubstr("Hi Ada,"), HasSubstr("ada@example.com"), HasSubstr("24 hours")));
}

TEST(AccountEmails, PasswordResetLinksToResetPasswordForHalfAnHour) {
  const AccountEmails emails("Acme", std::string(kBase));
  const auto email = emails.password_reset("ada@example.com", "Ada", kToken);
  const std::string link = std::string(kBase) + "/reset-password?token=" + std::string(kToken);

  EXPECT_EQ(email.to, "ada@example.com");
  EXPECT_EQ(email.subject, "Reset your Acme password");
  EXPECT_THAT(email.text, AllOf(StartsWith("Hi Ada,\n"), HasSubstr("\n" + link + "\n"),
                                HasSubstr("ada@example.com"), HasSubstr("30 minutes")));
  EXPECT_THAT(email.html, AllOf(HasSubstr("href=\"" + link + "\""), HasSubstr(">" + link + "<"),
                                HasSubstr("30 minutes")));
}

TEST(AccountEmails, ABaseUrlWithAPathKeepsItAndLosesATrailingSlash) {
  const AccountEmails emails("Acme", "https://example.com/users/");
  EXPECT_THAT(emails.verification("a@example.com", "A", kToken).text,
              HasSubstr("https://example.com/users/verify-email?token=" + std::string(kToken)));
  EXPECT_THAT(emails.password_reset("a@example.com", "A", kToken).text,
              HasSubstr("https://example.com/users/reset-password?token=" + std::string(kToken)));
}

TEST(AccountEmails, ATokenOutsideBase64urlIsPercentEncoded) {
  const AccountEmails emails("Acme", std::string(kBase));
  const auto email = emails.verification("a@example.com", "A", "a b/+=%&#\"<\xC3\xA9~.");
  const std::string link =
      std::string(kBase) + "/verify-email?token=a%20b%2F%2B%3D%25%26%23%22%3C%C3%A9~.";
  EXPECT_THAT(email.text, HasSubstr("\n" + link + "\n"));
  EXPECT_THAT(email.html, HasSubstr("href=\"" + link + "\""));
}

TEST(AccountEmails, ValuesAreHtmlEscapedInTheHtmlBodyOnly) {
  const std::string hostile = "<script>&\"'";
  const AccountEmails emails("Acme <b>&\"'", "https://example.com/a&b");
  for (const auto& email : both(emails, "o'brien@example.com", hostile, kToken)) {
    EXPECT_THAT(
        email.html,
        AllOf(HasSubstr("Hi &lt;script&gt;&amp;&quot;&#39;,"),
              HasSubstr("Acme &lt;b&gt;&amp;&quot;&#39;"), HasSubstr("o&#39;brien@example.com"),
              HasSubstr("href=\"https://example.com/a&amp;b/"),
              HasSubstr(">https://example.com/a&amp;b/"), Not(HasSubstr("<script")),
              Not(HasSubstr("<b>")), Not(HasSubstr("a&b"))));
    // The plain-text body is not HTML: values appear as typed.
    EXPECT_THAT(email.text,
                AllOf(HasSubstr("Hi " + hostile + ","), HasSubstr("Acme <b>&\"'"),
                      HasSubstr("o'brien@example.com"), HasSubstr("\nhttps://example.com/a&b/")));
  }
}

TEST(AccountEmails, ASubjectHasNoLineBreak) {
  const AccountEmails emails("Acme\r\nBcc: victim@example.com\n", std::string(kBase));
  for (const auto& email : both(emails, "a@example.com", "A", kToken)) {
    EXPECT_EQ(email.subject.find_first_of("\r\n"), std::string::npos) << email.subject;
    EXPECT_THAT(email.subject, HasSubstr("AcmeBcc: victim@example.com"));
  }
  EXPECT_EQ(emails.verification("a@example.com", "A", kToken).subject,
            "Verify your email address for AcmeBcc: victim@example.com");
}

TEST(AccountEmails, APlaceholderInAValueIsNotExpanded) {
  const AccountEmails emails("{{name}}", std::string(kBase));
  const auto email = emails.verification("a@example.com", "{{link}}", kToken);
  EXPECT_THAT(email.text, StartsWith("Hi {{link}},\n"));
  EXPECT_THAT(email.html, HasSubstr("Hi {{link}},"));
  EXPECT_EQ(email.subject, "Verify your email address for {{name}}");
}

// Every template file is one the emails use, and renders without a placeholder left: a
// misspelt or unknown {{placeholder}} fails here, not in someone's inbox.
TEST(AccountEmails, EveryTemplateRendersWithNoPlaceholderLeft) {
  std::set<std::string> names;
  for (const auto& file : embedded_templates()) names.emplace(file.name);
  EXPECT_EQ(names, (std::set<std::string>{"reset_password.html", "reset_password.subject",
                                          "reset_password.txt", "verify_email.html",
                                          "verify_email.subject", "verify_email.txt"}));
  for (const auto& file : embedded_templates()) {
    EXPECT_FALSE(file.text.empty()) << file.name;
  }

  const AccountEmails emails("Acme", std::string(kBase));
  for (const auto& email : both(emails, "ada@example.com", "Ada", kToken)) {
    for (const std::string* part : {&email.subject, &email.text, &email.html}) {
      EXPECT_THAT(*part, AllOf(Not(HasSubstr("{{")), Not(HasSubstr("}}")))) << *part;
      EXPECT_FALSE(part->empty());
    }
  }
}

// Mail clients load nothing from elsewhere: one self-contained document, inline styles only,
// whose only URL is the link (as a button and as text).
TEST(AccountEmails, TheHtmlBodyIsASelfContainedDocument) {
  const AccountEmails emails("Acme", std::string(kBase));
  for (const auto& email : both(emails, "ada@example.com", "Ada", kToken)) {
    EXPECT_THAT(email.html, AllOf(StartsWith("<!DOCTYPE html>\n<html lang=\"en\">\n"),
                                  HasSubstr("<meta charset=\"utf-8\">"),
                                  HasSubstr("<title>" + email.subject + "</title>"),
                                  EndsWith("</body>\n</html>\n")));
    for (const char* external : {"<script", "<link", "<img", "<style", "src=", "url(", "@import"})
      EXPECT_THAT(email.html, Not(HasSubstr(external))) << external;
    EXPECT_EQ(occurrences(email.html, "://"), 3u);
    EXPECT_EQ(occurrences(email.html, std::string(kBase) + "/"), 3u);
    EXPECT_EQ(occurrences(email.html, "<a "), occurrences(email.html, "</a>"));
  }
}

TEST(EmailTemplates, RenderReplacesKnownPlaceholdersAndLeavesOthers) {
  EXPECT_EQ(render("{{a}}-{{b}}-{{c}}-{{ a }}-{{a",
                   {{.name = "a", .value = "1"}, {.name = "b", .value = "<&>"}}, Escape::none),
            "1-<&>-{{c}}-{{ a }}-{{a");
  EXPECT_EQ(render("<p>{{b}}</p>", {{.name = "b", .value = "<&>\"'"}}, Escape::html),
            "<p>&lt;&amp;&gt;&quot;&#39;</p>");
  EXPECT_EQ(render("no placeholder", {}, Escape::html), "no placeholder");
}

TEST(EmailTemplates, AMissingTemplateIsAnError) {
  EXPECT_THROW(email_template("welcome.html"), std::logic_error);
  EXPECT_FALSE(email_template("verify_email.subject").empty());
}

}  // namespace
}  // namespace user_service::emails
