#pragma once
// GET /.well-known/jwks.json and GET /.well-known/oauth-authorization-server
// (docs/signing-keys.md): what another service needs to verify our tokens without a secret.
#include "kit/http/router.hpp"
#include "kit/security/jwt.hpp"
#include "service/settings.hpp"

namespace user_service::api {

void register_well_known_routes(kit::http::Router& router, const kit::security::JwtCodec& jwt,
                                const Settings& settings);

}  // namespace user_service::api
