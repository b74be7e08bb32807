#pragma once
// Bodies of the account email routes (docs/account-emails.md): email verification and password
// reset. Each type lists its fields once (FieldSpec) for validation and for the OpenAPI
// generator.
#include <array>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "service/schemas/field.hpp"
#include "service/schemas/users.hpp"

namespace user_service::schemas {

namespace fields {
// A token from an email link: 256 random bits, base64url (43 characters). Longer input is
// refused before it is hashed.
inline constexpr FieldSpec kEmailToken{.name = "token",
                                       .min_length = 1,
                                       .max_length = 128,
                                       .write_only = true,
                                       .description = "The token of the link in the email"};
}  // namespace fields

// POST /api/v1/auth/verify-email
struct VerifyEmailRequest {
  std::string token;

  static constexpr std::array<FieldSpec, 1> kFields{fields::kEmailToken};
  static const SchemaSpec& schema();
  static VerifyEmailRequest from_json(const rapidjson::Value& body);
};

// POST /api/v1/auth/password-reset/request
struct PasswordResetRequest {
  std::string email;  // normalized: trimmed, lowercased

  static constexpr std::array<FieldSpec, 1> kFields{
      described(fields::kEmail, "The account's email address")};
  static const SchemaSpec& schema();
  static PasswordResetRequest from_json(const rapidjson::Value& body);
};

// POST /api/v1/auth/password-reset
struct PasswordReset {
  std::string token;
  std::string new_password;

  static constexpr std::array<FieldSpec, 2> kFields{
      fields::kEmailToken, FieldSpec{.name = "new_password",
                                     .format = FieldFormat::password,
                                     .min_length = 8,
                                     .max_length = 128,
                                     .write_only = true,
                                     .description = "8 to 128 characters, any characters"}};
  static const SchemaSpec& schema();
  static PasswordReset from_json(const rapidjson::Value& body);
};

// The 202 answer of the routes that send an email later: the same body whatever happens, so it
// tells nothing about the account.
struct AcceptedResponse {
  static constexpr std::array<FieldSpec, 1> kFields{
      FieldSpec{.name = "message", .read_only = true, .description = "What happens next"}};
  static const SchemaSpec& schema();
  static std::string to_json(std::string_view message);
};

}  // namespace user_service::schemas
