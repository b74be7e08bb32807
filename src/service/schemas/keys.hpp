#pragma once
// Bodies of GET /.well-known/jwks.json and GET /.well-known/oauth-authorization-server
// (docs/signing-keys.md), for the OpenAPI document: the routes write these fields themselves
// (api/routes/well_known.cpp, kit::security::JwtCodec::jwks).
#include <array>
#include <string_view>

#include "service/schemas/field.hpp"

namespace user_service::schemas {

namespace values {
inline constexpr std::array<std::string_view, 2> kKeyTypes{"OKP", "EC"};
inline constexpr std::array<std::string_view, 2> kCurves{"Ed25519", "P-256"};
inline constexpr std::array<std::string_view, 2> kSigningAlgorithms{"EdDSA", "ES256"};
}  // namespace values

// One public key (RFC 7517 §4, RFC 8037 for OKP, RFC 7518 §6.2 for EC).
struct Jwk {
  static constexpr std::array<FieldSpec, 7> kFields{
      FieldSpec{.name = "kty",
                .enum_values = values::kKeyTypes,
                .read_only = true,
                .description = "`OKP` (Ed25519) or `EC` (P-256)"},
      FieldSpec{.name = "crv",
                .enum_values = values::kCurves,
                .read_only = true,
                .description = "The curve"},
      FieldSpec{.name = "x",
                .read_only = true,
                .description = "The public key (OKP) or its x coordinate (EC), base64url"},
      FieldSpec{.name = "y",
                .required = false,
                .read_only = true,
                .description = "EC only: the y coordinate, base64url"},
      FieldSpec{.name = "use", .const_value = "sig", .read_only = true},
      FieldSpec{.name = "alg",
                .enum_values = values::kSigningAlgorithms,
                .read_only = true,
                .description = "The JWS algorithm tokens signed with this key name"},
      FieldSpec{.name = "kid",
                .read_only = true,
                .description = "The key's RFC 7638 thumbprint; a token's header names it"}};
  static const SchemaSpec& schema();
};

struct JwkSet {
  static constexpr std::array<FieldSpec, 1> kFields{
      FieldSpec{.name = "keys",
                .type = FieldType::array_of_objects,
                .read_only = true,
                .description = "Every key a valid token may be signed with; empty for HS256/384/"
                               "512, whose key is secret",
                .items_schema = "Jwk"}};
  static const SchemaSpec& schema();
};

// RFC 8414 §2.
struct AuthorizationServerMetadata {
  static constexpr std::array<FieldSpec, 6> kFields{
      FieldSpec{.name = "issuer",
                .read_only = true,
                .description = "The `iss` claim of every token (JWT_ISSUER)"},
      FieldSpec{.name = "token_endpoint", .read_only = true},
      FieldSpec{.name = "jwks_uri", .read_only = true},
      FieldSpec{
          .name = "grant_types_supported", .type = FieldType::array_of_strings, .read_only = true},
      FieldSpec{.name = "token_endpoint_auth_methods_supported",
                .type = FieldType::array_of_strings,
                .read_only = true,
                .description = "`none`: clients are public, users authenticate with a password"},
      FieldSpec{.name = "response_types_supported",
                .type = FieldType::array_of_strings,
                .read_only = true,
                .description = "Empty: there is no authorization endpoint"}};
  static const SchemaSpec& schema();
};

}  // namespace user_service::schemas
