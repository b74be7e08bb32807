#pragma once
// Bodies of POST /api/v1/auth/token (docs/http-api.md "Authentication"): the OAuth2 password grant
// as a form, or the same fields as JSON.
#include <array>
#include <cstdint>
#include <string>

#include <rapidjson/document.h>

#include "kit/http/body.hpp"
#include "service/schemas/field.hpp"

namespace user_service::schemas {

struct TokenRequest {
  std::string username;  // the email as typed (trimmed and lowercased for the lookup)
  std::string password;

  // Bounds only: an email that is not well-formed simply matches no user (401), so the
  // response does not tell a malformed address from an unknown one.
  static constexpr std::array<FieldSpec, 3> kFields{
      FieldSpec{.name = "username",
                .min_length = 1,
                .max_length = 320,
                .trim = true,
                .description = "The user's email address",
                .example = "ada@example.com"},
      FieldSpec{.name = "password",
                .format = FieldFormat::password,
                .min_length = 1,
                .max_length = 1024,
                .write_only = true,
                .description = "The user's password"},
      FieldSpec{.name = "grant_type",
                .required = false,
                .const_value = "password",
                .description = "OAuth2 grant type; only `password` is supported"}};
  static const SchemaSpec& schema();

  // Both throw ValidationError (422) listing every failing field.
  static TokenRequest from_form(const kit::http::FormFields& form);
  static TokenRequest from_json(const rapidjson::Value& body);
};

struct TokenResponse {
  std::string access_token;
  std::int64_t expires_in = 0;  // seconds

  static constexpr std::array<FieldSpec, 3> kFields{
      FieldSpec{.name = "access_token", .read_only = true, .description = "JWT bearer token"},
      FieldSpec{.name = "token_type",
                .const_value = "bearer",
                .read_only = true,
                .description = "Always `bearer`"},
      FieldSpec{.name = "expires_in",
                .type = FieldType::integer,
                .read_only = true,
                .description = "Lifetime of the token in seconds"}};
  static const SchemaSpec& schema();
  std::string to_json() const;
};

}  // namespace user_service::schemas
