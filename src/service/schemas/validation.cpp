#include "service/schemas/validation.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "kit/util/enum_names.hpp"
#include "kit/util/text.hpp"

namespace user_service::schemas {
namespace {

using kit::errors::Detail;

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0U) == 0x80U;
}

// Decodes the code point starting at `s[0]` (valid UTF-8 assumed); sets `len`.
char32_t decode(std::string_view s, std::size_t& len) noexcept {
  const auto c0 = static_cast<unsigned char>(s[0]);
  if (c0 < 0x80U) {
    len = 1;
    return c0;
  }
  len = c0 >= 0xF0U ? 4 : c0 >= 0xE0U ? 3 : 2;
  if (len > s.size()) {
    len = 1;
    return 0xFFFD;
  }
  char32_t cp = c0 & (len == 2 ? 0x1FU : len == 3 ? 0x0FU : 0x07U);
  for (std::size_t i = 1; i < len; ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3FU);
  }
  return cp;
}

// Python's str.isspace() set, which FastAPI/Pydantic's strip uses.
bool is_unicode_space(char32_t cp) noexcept {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_label_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool valid_domain(std::string_view domain) noexcept {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t labels = 0;
  while (true) {
    const std::size_t dot = domain.find('.');
    const std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!is_label_char(c)) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

bool valid_local_part(std::string_view local) noexcept {
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  for (const char ch : local) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20U || c == 0x7FU) return false;
    if (std::string_view("()<>[]\\,;:\"").find(ch) != std::string_view::npos) return false;
  }
  return !kit::util::has_control_characters(local);
}

// The type a field expects, as a validation message names it.
constexpr kit::util::EnumNames<FieldType, 6> kTypeNames{
    {"a string", "an integer", "a number", "a string", "an array", "an object"}};

}  // namespace

std::size_t code_points(std::string_view utf8) noexcept {
  std::size_t n = 0;
  for (const char c : utf8) {
    if (!is_continuation(static_cast<unsigned char>(c))) ++n;
  }
  return n;
}

std::string_view trim_unicode(std::string_view s) noexcept {
  while (!s.empty()) {
    std::size_t len = 0;
    if (!is_unicode_space(decode(s, len))) break;
    s.remove_prefix(len);
  }
  while (!s.empty()) {
    std::size_t start = s.size() - 1;
    while (start > 0 && is_continuation(static_cast<unsigned char>(s[start]))) --start;
    std::size_t len = 0;
    if (!is_unicode_space(decode(s.substr(start), len))) break;
    s.remove_suffix(s.size() - start);
  }
  return s;
}

bool is_valid_email(std::string_view email) noexcept {
  const std::size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return valid_local_part(email.substr(0, at)) && valid_domain(email.substr(at + 1));
}

std::string normalize_email(std::string_view email) {
  return kit::util::ascii_lowercase(trim_unicode(email));
}

void Validator::add(std::string code, std::string message, std::string_view field) {
  details_.push_back(Detail{std::move(code), std::move(message), std::string(field)});
}

void Validator::throw_if_failed() {
  if (!details_.empty()) throw kit::errors::ValidationError(details_);
}

std::optional<std::string> Validator::check_string(std::string_view value, const FieldSpec& spec) {
  const std::string_view v = spec.trim ? trim_unicode(value) : value;
  const std::size_t length = code_points(v);
  if (!spec.const_value.empty() && v != spec.const_value) {
    add("invalid_value", fmt::format("Input should be '{}'", spec.const_value), spec.name);
    return std::nullopt;
  }
  if (!spec.enum_values.empty() &&
      std::find(spec.enum_values.begin(), spec.enum_values.end(), v) == spec.enum_values.end()) {
    add("invalid_value",
        fmt::format("Input should be one of: '{}'", fmt::join(spec.enum_values, "', '")),
        spec.name);
    return std::nullopt;
  }
  if (spec.min_length && length < *spec.min_length) {
    add("too_short",
        fmt::format("String should have at least {} character{}", *spec.min_length,
                    *spec.min_length == 1 ? "" : "s"),
        spec.name);
    return std::nullopt;
  }
  if (spec.max_length && length > *spec.max_length) {
    add("too_long", fmt::format("String should have at most {} characters", *spec.max_length),
        spec.name);
    return std::nullopt;
  }
  if (spec.no_control && kit::util::has_control_characters(v)) {
    add("invalid_value", "String must not contain control characters", spec.name);
    return std::nullopt;
  }
  if (spec.format == FieldFormat::email) {
    if (!is_valid_email(v)) {
      add("invalid_email", "Value is not a valid email address", spec.name);
      return std::nullopt;
    }
    return normalize_email(v);
  }
  return std::string(v);
}

std::optional<std::string> Validator::string(const rapidjson::Value& object,
                                             const FieldSpec& spec) {
  const auto it = object.FindMember(rapidjson::StringRef(spec.name.data(), spec.name.size()));
  if (it == object.MemberEnd()) {
    if (spec.required) add("missing", "Field required", spec.name);
    return std::nullopt;
  }
  if (!it->value.IsString()) {
    add("invalid_type", fmt::format("Input should be {}", kTypeNames(spec.type)), spec.name);
    return std::nullopt;
  }
  return check_string(std::string_view(it->value.GetString(), it->value.GetStringLength()), spec);
}

std::optional<std::string> Validator::string(const kit::http::FormFields& fields,
                                             const FieldSpec& spec) {
  const auto value = fields.get(spec.name);
  if (!value) {
    if (spec.required) add("missing", "Field required", spec.name);
    return std::nullopt;
  }
  return check_string(*value, spec);
}

std::optional<std::int64_t> Validator::integer(const kit::http::FormFields& fields,
                                               const FieldSpec& spec) {
  const auto value = fields.get(spec.name);
  if (!value) {
    if (spec.required) add("missing", "Field required", spec.name);
    return spec.default_integer;
  }
  std::int64_t n = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, n);
  if (value->empty() || ec != std::errc{} || ptr != end) {
    add("invalid_type", "Input should be a valid integer", spec.name);
    return std::nullopt;
  }
  if ((spec.minimum && n < *spec.minimum) || (spec.maximum && n > *spec.maximum)) {
    add("invalid_value",
        fmt::format("Input should be between {} and {}", spec.minimum.value_or(INT64_MIN),
                    spec.maximum.value_or(INT64_MAX)),
        spec.name);
    return std::nullopt;
  }
  return n;
}

void throw_body_not_object() {
  throw kit::errors::ValidationError(
      {kit::errors::Detail{"invalid_type", "Request body should be a JSON object", "body"}});
}

}  // namespace user_service::schemas
