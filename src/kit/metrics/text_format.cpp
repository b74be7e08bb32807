#include "kit/metrics/text_format.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "kit/util/enum_names.hpp"

namespace kit::metrics {

namespace {

bool name_char(char c, bool first, bool colon_ok) noexcept {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (alpha || (colon_ok && c == ':')) return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon_ok) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, colon_ok)) return false;
  }
  return true;
}

// HELP text escapes `\` and newline; label values also `"`.
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string_view to_string(Type type) noexcept {
  static constexpr util::EnumNames<Type, 3> kNames{{"counter", "gauge", "histogram"}};
  return kNames(type);
}

bool valid_metric_name(std::string_view name) noexcept {
  return valid_name(name, true);
}

bool valid_label_name(std::string_view name) noexcept {
  // Names starting with "__" are reserved for Prometheus itself.
  return valid_name(name, false) && !name.starts_with("__");
}

void append_escaped_help(std::string& out, std::string_view help) {
  append_escaped(out, help, false);
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  append_escaped(out, value, true);
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    // fmt's default for double is the shortest text that reads back as the same value
    // ("0.005", "1", "1e-07"), which Go's ParseFloat (Prometheus) accepts.
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

void append_value(std::string& out, std::uint64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void TextWriter::family(std::string_view name, std::string_view help, Type type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped_help(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += to_string(type);
  out_ += '\n';
}

void TextWriter::sample_start(std::string_view name, std::string_view suffix,
                              std::span<const std::string> label_names,
                              std::span<const std::string> label_values, Label extra) {
  out_ += name;
  out_ += suffix;
  const bool any = !label_names.empty() || !extra.name.empty();
  if (any) {
    out_ += '{';
    bool first = true;
    const auto label = [&](std::string_view n, std::string_view v) {
      if (!first) out_ += ',';
      first = false;
      out_ += n;
      out_ += "=\"";
      append_escaped_label_value(out_, v);
      out_ += '"';
    };
    for (std::size_t i = 0; i < label_names.size(); ++i) label(label_names[i], label_values[i]);
    if (!extra.name.empty()) label(extra.name, extra.value);
    out_ += '}';
  }
  out_ += ' ';
}

}  // namespace kit::metrics
