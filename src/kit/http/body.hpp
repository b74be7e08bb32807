#pragma once
// Reading request bodies and query strings strictly (docs/http-api.md "Untrusted input"): a JSON
// body must say `Content-Type: application/json` (charset utf-8 optional) or the request is refused
// with 415; malformed JSON, invalid UTF-8, duplicate keys or excessive nesting give 400 with a
// fixed, safe message (never an echo of the input). Forms (`application/x-www-form-urlencoded`) and
// query strings are percent-decoded strictly, `+` is a space, every name and value must be
// valid UTF-8, and the number of fields is bounded.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "kit/http/types.hpp"

namespace kit::http {

struct JsonBodyLimits {
  unsigned max_depth = 32;  // objects and arrays; the root is depth 1
};

// The media type of a Content-Type value, lowercased and without parameters ("" when absent).
std::string media_type(std::string_view content_type);

// True when `content_type` is application/json with no charset or charset=utf-8 (any case,
// quoted or not). Other parameters are ignored.
bool is_json_content_type(std::string_view content_type);

// Parses the request body as one strict JSON document into `out`. Throws
// UnsupportedMediaType (415) for another Content-Type and BadRequest (400) for a body that is
// not valid JSON text (see kit::security::parse_strict_json). The body size is already bounded
// by the server (MAX_BODY_BYTES → 413).
void read_json_body(const Request& req, rapidjson::Document& out,
                    const JsonBodyLimits& limits = {});

// Decoded name=value pairs in their original order.
class FormFields {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // The first value of `name`, nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  std::size_t count(std::string_view name) const noexcept;
  std::size_t size() const noexcept { return items_.size(); }
  const std::vector<std::pair<std::string, std::string>>& items() const noexcept { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct FormLimits {
  std::size_t max_fields = 64;
  bool reject_duplicates = false;  // true: a repeated name is malformed (OAuth2 forms)
};

// Parses `a=1&b=x+y%21` (a form body or a query string). Empty segments ("a=1&&b=2") are
// skipped; a segment without '=' is a name with an empty value. Returns nullopt on a malformed
// escape, invalid UTF-8 after decoding, too many fields or a forbidden duplicate.
std::optional<FormFields> parse_urlencoded(std::string_view text, const FormLimits& limits = {});

// The request body as a form. Throws UnsupportedMediaType (415) unless the Content-Type is
// application/x-www-form-urlencoded, BadRequest (400) when parse_urlencoded refuses it.
FormFields read_form_body(const Request& req, const FormLimits& limits = {});

// The request target's query string as fields. Throws BadRequest (400) when malformed.
FormFields read_query(const Request& req, const FormLimits& limits = {});

}  // namespace kit::http
