#include "kit/http/body.hpp"

#include <algorithm>
#include <limits>

#include "kit/errors/app_error.hpp"
#include "kit/http/router.hpp"
#include "kit/json/writer.hpp"
#include "kit/security/strict_json.hpp"
#include "kit/util/text.hpp"

namespace kit::http {
namespace {

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` (lowercased, quotes removed) in a Content-Type, nullopt if absent.
std::optional<std::string> content_type_param(std::string_view content_type,
                                              std::string_view name) {
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    std::string_view rest = content_type.substr(pos + 1);
    const std::size_t next = rest.find(';');
    std::string_view param = trim_ows(rest.substr(0, next));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos &&
        util::ascii_lowercase(trim_ows(param.substr(0, eq))) == name) {
      std::string_view value = trim_ows(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return util::ascii_lowercase(value);
    }
    pos = next == std::string_view::npos ? next : pos + 1 + next;
  }
  return std::nullopt;
}

std::string_view content_type_of(const Request& req) {
  const auto it = req.find(Field::content_type);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

std::optional<std::string> form_decode(std::string_view s) {
  std::string plus_as_space(s);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  auto decoded = util::percent_decode(plus_as_space);
  if (!decoded || !kit::json::is_valid_utf8(*decoded)) return std::nullopt;
  return decoded;
}

}  // namespace

std::string media_type(std::string_view content_type) {
  return util::ascii_lowercase(trim_ows(content_type.substr(0, content_type.find(';'))));
}

bool is_json_content_type(std::string_view content_type) {
  if (media_type(content_type) != "application/json") return false;
  const auto charset = content_type_param(content_type, "charset");
  return !charset || *charset == "utf-8" || *charset == "utf8";
}

void read_json_body(const Request& req, rapidjson::Document& out, const JsonBodyLimits& limits) {
  if (!is_json_content_type(content_type_of(req))) {
    throw kit::errors::UnsupportedMediaType("Content-Type must be application/json");
  }
  const std::string& body = req.body();
  if (body.empty())
    throw kit::errors::BadRequest("Request body is empty; a JSON object is required");
  // The server already bounded the body (MAX_BODY_BYTES → 413), so only depth is limited here.
  const kit::security::StrictJsonLimits strict{.max_bytes = body.size(),
                                               .max_depth = limits.max_depth};
  if (!kit::security::parse_strict_json(body, out, strict)) {
    throw kit::errors::BadRequest(
        "Malformed JSON body (invalid syntax or UTF-8, duplicate keys or too deeply nested)");
  }
}

std::optional<std::string_view> FormFields::get(std::string_view name) const noexcept {
  for (const auto& [k, v] : items_) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::size_t FormFields::count(std::string_view name) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      items_.begin(), items_.end(), [name](const auto& kv) { return kv.first == name; }));
}

std::optional<FormFields> parse_urlencoded(std::string_view text, const FormLimits& limits) {
  FormFields fields;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view segment = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (segment.empty()) continue;
    if (fields.size() >= limits.max_fields) return std::nullopt;
    const std::size_t eq = segment.find('=');
    auto name = form_decode(segment.substr(0, eq));
    auto value =
        form_decode(eq == std::string_view::npos ? std::string_view{} : segment.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    if (limits.reject_duplicates && fields.count(*name) > 0) return std::nullopt;
    fields.add(std::move(*name), std::move(*value));
  }
  return fields;
}

FormFields read_form_body(const Request& req, const FormLimits& limits) {
  if (media_type(content_type_of(req)) != "application/x-www-form-urlencoded") {
    throw kit::errors::UnsupportedMediaType(
        "Content-Type must be application/x-www-form-urlencoded");
  }
  auto fields = parse_urlencoded(req.body(), limits);
  if (!fields) throw kit::errors::BadRequest("Malformed form body");
  return std::move(*fields);
}

FormFields read_query(const Request& req, const FormLimits& limits) {
  auto fields = parse_urlencoded(target_query(req.target()), limits);
  if (!fields) throw kit::errors::BadRequest("Malformed query string");
  return std::move(*fields);
}

}  // namespace kit::http
