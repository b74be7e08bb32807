// Fuzzes a JSON request body on its way into the users and auth schemas: Content-Type check and
// strict JSON parsing (kit/http/body, kit/security/strict_json), then UserCreate, UserUpdate
// and TokenRequest validation (service/schemas). Input: the Content-Type value on the first
// line, the body after it.
// Properties: a refusal is a typed 400/415/422 whose envelope is valid JSON; an accepted value
// meets the schema's rules (docs/http-api.md "User fields": normalized email, trimmed name without
// control characters, lengths in code points).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "kit/errors/app_error.hpp"
#include "kit/errors/envelope.hpp"
#include "kit/http/body.hpp"
#include "kit/json/writer.hpp"
#include "kit/security/strict_json.hpp"
#include "kit/util/text.hpp"
#include "service/schemas/auth.hpp"
#include "service/schemas/users.hpp"
#include "service/schemas/validation.hpp"

namespace {

namespace schemas = user_service::schemas;

// The envelope of any refusal must itself be valid JSON, whatever the input was.
void check_refusal(const kit::errors::AppError& e) {
  FUZZ_CHECK(e.status() == 400 || e.status() == 415 || e.status() == 422);
  FUZZ_CHECK(e.status() != 422 || !e.details().empty());
  for (const auto& d : e.details()) {
    FUZZ_CHECK(d.code == "missing" || d.code == "invalid_type" || d.code == "invalid_email" ||
               d.code == "too_short" || d.code == "too_long" || d.code == "invalid_value");
    FUZZ_CHECK(!d.field.empty());
  }
  rapidjson::Document doc;
  const auto envelope = kit::errors::render_envelope(e.code(), e.message(), e.details(), "r-1");
  FUZZ_CHECK(kit::security::parse_strict_json(envelope, doc) && doc.IsObject());
}

// Every accepted string is valid UTF-8 (a decoded lone surrogate is refused) and within bounds.
bool within(std::string_view s, std::size_t min, std::size_t max) {
  FUZZ_CHECK(kit::json::is_valid_utf8(s));
  const auto n = schemas::code_points(s);
  return n >= min && n <= max;
}

bool trimmed(std::string_view s) {
  return schemas::trim_unicode(s).size() == s.size();
}

void check_email(const std::string& email) {
  FUZZ_CHECK(email.size() <= 254 && schemas::is_valid_email(email));
  FUZZ_CHECK(kit::json::is_valid_utf8(email));
  FUZZ_CHECK(email == schemas::normalize_email(email));
}

void check_name(const std::string& name) {
  FUZZ_CHECK(within(name, 1, 100) && trimmed(name) && !kit::util::has_control_characters(name));
}

template <class Parse>
void validate(Parse parse) {
  try {
    parse();
  } catch (const kit::errors::AppError& e) {
    check_refusal(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  if (newline == std::string_view::npos || newline > 256) return 0;

  kit::http::Request req{kit::http::Verb::post, "/api/v1/users/", 11};
  req.set(kit::http::Field::content_type, input.substr(0, newline));
  req.body() = std::string(input.substr(newline + 1));
  req.prepare_payload();

  rapidjson::Document body;
  try {
    kit::http::read_json_body(req, body);
  } catch (const kit::errors::AppError& e) {
    check_refusal(e);
    return 0;
  }
  FUZZ_CHECK(kit::http::is_json_content_type(input.substr(0, newline)));

  validate([&] {
    const auto user = schemas::UserCreate::from_json(body);
    check_email(user.email);
    check_name(user.name);
    FUZZ_CHECK(within(user.password, 8, 128));
  });
  validate([&] {
    const auto update = schemas::UserUpdate::from_json(body);
    if (update.email) check_email(*update.email);
    if (update.name) check_name(*update.name);
    if (update.password) FUZZ_CHECK(within(*update.password, 8, 128));
    if (update.current_password) FUZZ_CHECK(within(*update.current_password, 1, 128));
  });
  validate([&] {
    const auto token = schemas::TokenRequest::from_json(body);
    FUZZ_CHECK(within(token.username, 1, 320) && trimmed(token.username));
    FUZZ_CHECK(within(token.password, 1, 1024));
  });
  return 0;
}
