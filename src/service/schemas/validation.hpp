#pragma once
// Validation driven by FieldSpec: reads fields from a JSON object, a form or a query string and
// collects one detail per failing field, so a client learns about every problem at once
// (docs/http-api.md "Errors": VALIDATION_ERROR 422 with codes missing, invalid_type, invalid_email,
// too_short, too_long, invalid_value). Fields not asked for are never looked at: unknown input is
// ignored.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "kit/errors/app_error.hpp"
#include "kit/http/body.hpp"
#include "service/schemas/field.hpp"

namespace user_service::schemas {

// Number of Unicode code points in valid UTF-8 text.
std::size_t code_points(std::string_view utf8) noexcept;
// `s` without leading and trailing white space (ASCII and Unicode spaces).
std::string_view trim_unicode(std::string_view s) noexcept;
// The email rules of docs/http-api.md "User fields" on already trimmed text: <= 254 characters
// is checked separately; here one '@', a non-empty local part (<= 64, no spaces, controls or
// specials) and a domain of at least two dot-separated labels of letters, digits and hyphens
// (1-63 chars, no hyphen at either end).
bool is_valid_email(std::string_view email) noexcept;
// THE email normalization (docs: README "Email addresses"): trimmed, ASCII letters lowercased,
// every other character kept as sent ("ÜNÏ@x.io" stays distinct from "ünï@x.io"). Storage,
// lookup, uniqueness and the `auth` rate-limit key all compare this form exactly, on every
// backend: no database-side lower(), whose folding differs between PostgreSQL and SQLite.
std::string normalize_email(std::string_view email);

class Validator {
 public:
  // A string field of a JSON object; nullopt when absent (and optional) or failing.
  std::optional<std::string> string(const rapidjson::Value& object, const FieldSpec& spec);
  // A string field of a form or query string.
  std::optional<std::string> string(const kit::http::FormFields& fields, const FieldSpec& spec);
  // An integer field of a query string (decimal text); the spec's default when absent.
  std::optional<std::int64_t> integer(const kit::http::FormFields& fields, const FieldSpec& spec);

  // Checks a present string value against `spec` and returns it normalized (trimmed; emails
  // by normalize_email), or nullopt after recording the failure.
  std::optional<std::string> check_string(std::string_view value, const FieldSpec& spec);

  void add(std::string code, std::string message, std::string_view field);
  bool ok() const noexcept { return details_.empty(); }
  const std::vector<kit::errors::Detail>& details() const noexcept { return details_; }
  // Throws ValidationError (422) with every detail when anything failed.
  void throw_if_failed();

 private:
  std::vector<kit::errors::Detail> details_;
};

// When the JSON body is not an object: 422 invalid_type on field "body".
[[noreturn]] void throw_body_not_object();

}  // namespace user_service::schemas
