#pragma once
// Request and response bodies of /api/v1/users (docs/http-api.md "Routes"). Each type lists its
// fields once (FieldSpec) for validation and for the OpenAPI generator.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "kit/http/body.hpp"
#include "kit/json/writer.hpp"
#include "service/domain/user.hpp"
#include "service/schemas/field.hpp"

namespace user_service::schemas {

namespace fields {
inline constexpr FieldSpec kEmail{.name = "email",
                                  .format = FieldFormat::email,
                                  .max_length = 254,
                                  .trim = true,
                                  .description =
                                      "Email address; trimmed, stored lowercased, "
                                      "unique case-insensitively",
                                  .example = "ada@example.com"};
inline constexpr FieldSpec kName{.name = "name",
                                 .min_length = 1,
                                 .max_length = 100,
                                 .trim = true,
                                 .no_control = true,
                                 .description = "Display name; trimmed, no control characters",
                                 .example = "Ada Lovelace"};
inline constexpr FieldSpec kPassword{.name = "password",
                                     .format = FieldFormat::password,
                                     .min_length = 8,
                                     .max_length = 128,
                                     .write_only = true,
                                     .description = "8 to 128 characters, any characters"};
}  // namespace fields

// The same field, not required (PATCH bodies).
constexpr FieldSpec not_required(FieldSpec spec) {
  spec.required = false;
  return spec;
}
constexpr FieldSpec described(FieldSpec spec, std::string_view description) {
  spec.description = description;
  return spec;
}

// POST /api/v1/users/ body. Unknown members (id, role, created_at...) are ignored.
struct UserCreate {
  std::string email;  // normalized: trimmed, lowercased
  std::string name;   // trimmed
  std::string password;

  static constexpr std::array<FieldSpec, 3> kFields{fields::kEmail, fields::kName,
                                                    fields::kPassword};
  static const SchemaSpec& schema();
  // Throws ValidationError (422) listing every failing field.
  static UserCreate from_json(const rapidjson::Value& body);
};

// PATCH /api/v1/users/me body: any subset; a new email or password needs current_password.
struct UserUpdate {
  std::optional<std::string> email;
  std::optional<std::string> name;
  std::optional<std::string> password;
  std::optional<std::string> current_password;

  static constexpr std::array<FieldSpec, 4> kFields{
      not_required(fields::kName), not_required(fields::kEmail),
      described(not_required(fields::kPassword),
                "New password: 8 to 128 characters; requires current_password"),
      FieldSpec{.name = "current_password",
                .required = false,
                .format = FieldFormat::password,
                .min_length = 1,
                .max_length = 128,
                .write_only = true,
                .description = "The current password; required to change email or password"}};
  static const SchemaSpec& schema();
  static UserUpdate from_json(const rapidjson::Value& body);
};

// GET /api/v1/users query string.
struct ListUsersQuery {
  std::size_t limit = 50;
  std::optional<std::string> cursor;

  static constexpr std::array<FieldSpec, 2> kFields{
      FieldSpec{.name = "limit",
                .type = FieldType::integer,
                .required = false,
                .minimum = 1,
                .maximum = 100,
                .default_integer = 50,
                .description = "Page size"},
      FieldSpec{.name = "cursor",
                .required = false,
                .min_length = 1,
                .max_length = 512,
                .description = "Opaque next_cursor of the previous page"}};
  static const SchemaSpec& schema();
  static ListUsersQuery from_query(const kit::http::FormFields& query);
};

// What clients see of a user. It is built from domain::User and has no place for the password
// hash or the role: only the fields below can ever be serialized.
struct UserResponse {
  std::string id;
  std::string email;
  std::string name;
  domain::Timestamp created_at{};
  bool email_verified = false;

  static constexpr std::array<FieldSpec, 5> kFields{
      FieldSpec{.name = "id",
                .format = FieldFormat::uuid,
                .read_only = true,
                .description = "User id (UUID, lowercase)"},
      FieldSpec{.name = "email",
                .format = FieldFormat::email,
                .read_only = true,
                .description = "Email address, lowercased"},
      FieldSpec{.name = "name", .read_only = true, .description = "Display name"},
      FieldSpec{.name = "created_at",
                .format = FieldFormat::date_time,
                .read_only = true,
                .description = "RFC 3339 UTC timestamp"},
      FieldSpec{.name = "email_verified",
                .type = FieldType::boolean,
                .read_only = true,
                .description = "The user proved the address by a verification (or password "
                               "reset) link; false again after an email change"}};
  static const SchemaSpec& schema();

  static UserResponse from(const domain::User& user);
  void write(kit::json::Writer& w) const;
  std::string to_json() const;
  // The same JSON straight from the entity, without copying it into a UserResponse first (the
  // hot read routes: /users/me and /users/{id}).
  static std::string to_json(const domain::User& user);
};

struct UserListResponse {
  std::vector<UserResponse> items;
  std::optional<std::string> next_cursor;

  static constexpr std::array<FieldSpec, 2> kFields{
      FieldSpec{.name = "items",
                .type = FieldType::array_of_objects,
                .read_only = true,
                .description = "Users, newest first",
                .items_schema = "UserResponse"},
      FieldSpec{.name = "next_cursor",
                .type = FieldType::string_or_null,
                .read_only = true,
                .description = "Pass as `cursor` for the next page; null on the last page"}};
  static const SchemaSpec& schema();
  std::string to_json() const;
};

}  // namespace user_service::schemas
