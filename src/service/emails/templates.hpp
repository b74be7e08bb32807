#pragma once
// The email templates of templates/email/ as compiled into the binary by
// cmake/embed_templates.cmake, and the {{placeholder}} substitution that fills them
// (docs/account-emails.md "Email templates").
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace user_service::emails {

struct TemplateFile {
  std::string_view name = {};  // the file name under templates/email/, e.g. "verify_email.html"
  std::string_view text = {};
};

// Every template file, sorted by name (defined in the generated source).
const std::vector<TemplateFile>& embedded_templates();

// The template file `name`; throws std::logic_error when the build embedded none of that name.
std::string_view email_template(std::string_view name);

struct Placeholder {
  std::string_view name = {};
  std::string_view value = {};
};

enum class Escape { none, html };

// `text` with each {{name}} of `values` replaced by its value, HTML-escaped (& < > " ') for
// Escape::html. One pass: a value is never searched for placeholders, so a user's name such as
// "{{link}}" stays as typed. An unknown {{…}} is left as it is, for the tests that render every
// template to find.
std::string render(std::string_view text, std::initializer_list<Placeholder> values, Escape escape);

}  // namespace user_service::emails
