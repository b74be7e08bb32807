#pragma once
// Bodies of POST /api/v1/auth/token (docs/http-api.md "Authentication"): the OAuth2 password and
// refresh_token grants as a form, or the same fields as JSON; and the sessions listing.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "kit/http/body.hpp"
#include "service/domain/session.hpp"
#include "service/schemas/field.hpp"

namespace user_service::schemas {

inline constexpr std::string_view kGrantTypes[] = {"password", "refresh_token"};

struct TokenRequest {
  enum class Grant { password, refresh_token };
  Grant grant = Grant::password;
  std::string username;  // password grant: the email as typed (trimmed, lowercased for the lookup)
  std::string password;
  std::string refresh_token;  // refresh_token grant

  // Bounds only: an email that is not well-formed simply matches no user (401), so the
  // response does not tell a malformed address from an unknown one. Which fields are required
  // depends on grant_type (password when absent), so none is required by the table.
  static constexpr std::array<FieldSpec, 4> kFields{
      FieldSpec{.name = "grant_type",
                .required = false,
                .enum_values = kGrantTypes,
                .description = "OAuth2 grant type: `password` (the default) or `refresh_token`"},
      FieldSpec{.name = "username",
                .required = false,
                .min_length = 1,
                .max_length = 320,
                .trim = true,
                .description = "Password grant: the user's email address",
                .example = "ada@example.com"},
      FieldSpec{.name = "password",
                .required = false,
                .format = FieldFormat::password,
                .min_length = 1,
                .max_length = 1024,
                .write_only = true,
                .description = "Password grant: the user's password"},
      FieldSpec{.name = "refresh_token",
                .required = false,
                .min_length = 1,
                .max_length = 256,
                .write_only = true,
                .description = "Refresh grant: the refresh token of the last answer"}};
  static const SchemaSpec& schema();

  // Both throw ValidationError (422) listing every failing field.
  static TokenRequest from_form(const kit::http::FormFields& form);
  static TokenRequest from_json(const rapidjson::Value& body);
};

struct TokenResponse {
  std::string access_token;
  std::int64_t expires_in = 0;  // seconds
  std::string refresh_token;
  std::int64_t refresh_expires_in = 0;  // seconds

  static constexpr std::array<FieldSpec, 5> kFields{
      FieldSpec{.name = "access_token", .read_only = true, .description = "JWT bearer token"},
      FieldSpec{.name = "token_type",
                .const_value = "bearer",
                .read_only = true,
                .description = "Always `bearer`"},
      FieldSpec{.name = "expires_in",
                .type = FieldType::integer,
                .read_only = true,
                .description = "Lifetime of the access token in seconds"},
      FieldSpec{.name = "refresh_token",
                .read_only = true,
                .description = "Opaque; send it with grant_type=refresh_token for the next "
                               "access token. Each use returns a new one (rotation)"},
      FieldSpec{.name = "refresh_expires_in",
                .type = FieldType::integer,
                .read_only = true,
                .description = "Seconds until the refresh token expires unless used"}};
  static const SchemaSpec& schema();
  std::string to_json() const;
};

inline constexpr std::string_view kLogoutScopes[] = {"current", "all"};

// POST /api/v1/auth/logout?scope=current|all
struct LogoutQuery {
  bool all = false;

  static constexpr std::array<FieldSpec, 1> kFields{
      FieldSpec{.name = "scope",
                .required = false,
                .enum_values = kLogoutScopes,
                .description = "`current` (the default): this session; `all`: every session "
                               "of the user"}};
  static const SchemaSpec& schema();
  static LogoutQuery from_query(const kit::http::FormFields& query);
};

// One session in GET /api/v1/auth/sessions.
struct SessionResponse {
  static constexpr std::array<FieldSpec, 6> kFields{
      FieldSpec{.name = "id", .format = FieldFormat::uuid, .read_only = true},
      FieldSpec{.name = "created_at",
                .format = FieldFormat::date_time,
                .read_only = true,
                .description = "Sign-in time"},
      FieldSpec{.name = "last_used_at",
                .format = FieldFormat::date_time,
                .read_only = true,
                .description = "Last request or refresh, recorded at most once a minute"},
      FieldSpec{.name = "user_agent", .read_only = true, .description = "At sign-in"},
      FieldSpec{.name = "client_ip", .read_only = true, .description = "At sign-in"},
      FieldSpec{.name = "current",
                .type = FieldType::boolean,
                .read_only = true,
                .description = "true for the session of the token that asked"}};
  static const SchemaSpec& schema();
};

struct SessionListResponse {
  static constexpr std::array<FieldSpec, 1> kFields{
      FieldSpec{.name = "items",
                .type = FieldType::array_of_objects,
                .read_only = true,
                .description = "Active sessions, newest first",
                .items_schema = "SessionResponse"}};
  static const SchemaSpec& schema();
  static std::string to_json(const std::vector<domain::Session>& sessions,
                             std::string_view current_session_id);
};

}  // namespace user_service::schemas
