#include "service/api/openapi.hpp"

#include "service/schemas/account.hpp"
#include "service/schemas/auth.hpp"
#include "service/schemas/health.hpp"
#include "service/schemas/json_schema.hpp"
#include "service/schemas/keys.hpp"
#include "service/schemas/users.hpp"

namespace user_service::api {

kit::openapi::Options openapi_options(const Settings& settings) {
  return kit::openapi::Options{
      .title = settings.app_name,
      .version = settings.app_version,
      .description =
          "Registers users, signs them in with JWT bearer tokens (OAuth2 password "
          "grant) and serves their profiles. Every error is the `ErrorResponse` "
          "envelope; every response carries `X-Request-ID`.",
      .tags = {{"users", "Registration and profiles"},
               {"auth", "Access tokens, refresh and sessions"},
               {"keys", "Public keys and metadata for services that verify tokens"},
               {"health", "Liveness and readiness probes"}},
      .security_scheme = "OAuth2PasswordBearer",
      .token_url = std::string(kTokenUrl),
      .refresh_url = std::string(kTokenUrl),
      .rate_limiting = settings.rate_limit_enabled,
  };
}

std::string openapi_document(const Settings& settings, const kit::http::Router& router) {
  kit::openapi::Builder builder(openapi_options(settings));
  for (const schemas::SchemaSpec* spec :
       {&schemas::UserCreate::schema(), &schemas::UserUpdate::schema(),
        &schemas::UserResponse::schema(), &schemas::UserListResponse::schema(),
        &schemas::TokenRequest::schema(), &schemas::TokenResponse::schema(),
        &schemas::SessionResponse::schema(), &schemas::SessionListResponse::schema(),
        &schemas::LivenessResponse::schema(), &schemas::ReadinessResponse::schema(),
        &schemas::HealthCheckResult::schema(), &schemas::Jwk::schema(), &schemas::JwkSet::schema(),
        &schemas::AuthorizationServerMetadata::schema(), &schemas::VerifyEmailRequest::schema(),
        &schemas::PasswordResetRequest::schema(), &schemas::PasswordReset::schema(),
        &schemas::AcceptedResponse::schema()}) {
    builder.schema(std::string(spec->name), schemas::json_schema(*spec));
  }
  return builder.build(router);
}

}  // namespace user_service::api
