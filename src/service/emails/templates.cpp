#include "service/emails/templates.hpp"

#include <stdexcept>

#include "kit/util/text.hpp"

namespace user_service::emails {

std::string_view email_template(std::string_view name) {
  for (const auto& file : embedded_templates()) {
    if (file.name == name) return file.text;
  }
  throw std::logic_error("no email template templates/email/" + std::string(name) +
                         " was built in");
}

std::string render(std::string_view text, std::initializer_list<Placeholder> values,
                   Escape escape) {
  std::string out;
  out.reserve(text.size() + 256);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    out.append(text, pos, open - pos);
    const auto close = text.find("}}", open + 2);
    const Placeholder* found = nullptr;
    if (close != std::string_view::npos) {
      const auto name = text.substr(open + 2, close - open - 2);
      for (const auto& p : values) {
        if (p.name == name) found = &p;
      }
    }
    if (found == nullptr) {
      out += "{{";
      pos = open + 2;
      continue;
    }
    if (escape == Escape::html)
      kit::util::append_html_escaped(out, found->value);
    else
      out += found->value;
    pos = close + 2;
  }
  out.append(text, pos);
  return out;
}

}  // namespace user_service::emails
