#include "service/schemas/keys.hpp"

namespace user_service::schemas {

const SchemaSpec& Jwk::schema() {
  static const SchemaSpec spec{"Jwk", "A public signing key", kFields};
  return spec;
}

const SchemaSpec& JwkSet::schema() {
  static const SchemaSpec spec{"JwkSet", "The keys that verify this service's tokens", kFields};
  return spec;
}

const SchemaSpec& AuthorizationServerMetadata::schema() {
  static const SchemaSpec spec{"AuthorizationServerMetadata",
                               "OAuth 2.0 authorization server metadata (RFC 8414)", kFields};
  return spec;
}

}  // namespace user_service::schemas
