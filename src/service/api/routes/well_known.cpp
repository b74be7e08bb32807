#include "service/api/routes/well_known.hpp"

#include <algorithm>
#include <string>

#include "kit/http/response.hpp"
#include "kit/json/writer.hpp"
#include "service/api/openapi.hpp"

namespace user_service::api {
namespace {

namespace http = kit::http;

// Verifiers cache the key set; five minutes bounds how long a dropped key stays trusted by
// them (docs/signing-keys.md "Rotating keys").
constexpr std::string_view kCacheControl = "public, max-age=300";
constexpr std::size_t kMaxHostBytes = 255;

// A Host header fit to put in a URL: a name, an IPv4 or a bracketed IPv6 literal, and a port.
bool is_plain_host(std::string_view host) {
  return !host.empty() && host.size() <= kMaxHostBytes &&
         std::all_of(host.begin(), host.end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == ':' || ch == '[' ||
                  ch == ']';
         });
}

// PUBLIC_BASE_URL, else http://<Host> (or http://localhost when Host is absent or odd).
std::string base_url(const Settings& settings, const http::Request& req) {
  if (!settings.public_base_url.empty()) return settings.public_base_url;
  const auto host = req[http::Field::host];
  return "http://" + std::string(is_plain_host(host) ? host : "localhost");
}

http::Response cached_json(std::string body) {
  http::Response res = http::json_response(http::Status::ok, std::move(body));
  res.set(http::Field::cache_control, kCacheControl);
  return res;
}

}  // namespace

void register_well_known_routes(http::Router& router, const kit::security::JwtCodec& jwt,
                                const Settings& settings) {
  // Fetched by other services' verifiers, never by end users: not rate limited, answered from
  // memory.
  const http::RouteInfo well_known{.tags = {"keys"}, .rate_limited = false, .waits = false};
  const http::doc::Header cache_header{.name = "Cache-Control",
                                       .description = "`public, max-age=300`"};

  http::RouteInfo jwks = well_known;
  jwks.summary = "The public keys that verify access tokens (JWKS)";
  jwks.openapi = {.operation_id = "jwks",
                  .description = "RFC 7517 key set. Empty for HS256/384/512.",
                  .responses = {{200, "The key set", "JwkSet", {cache_header}}}};
  router.add(
      http::Verb::get, "/.well-known/jwks.json",
      [body = jwt.jwks()](http::Request&, http::RequestContext&)
          -> boost::asio::awaitable<http::Response> { co_return cached_json(body); },
      jwks);

  http::RouteInfo metadata = well_known;
  metadata.summary = "OAuth 2.0 authorization server metadata";
  metadata.openapi = {
      .operation_id = "authorization_server_metadata",
      .description =
          "RFC 8414. URLs are built from PUBLIC_BASE_URL, or from the request's Host "
          "header when it is empty.",
      .responses = {{200, "The metadata", "AuthorizationServerMetadata", {cache_header}}}};
  router.add(
      http::Verb::get, "/.well-known/oauth-authorization-server",
      [&settings](http::Request& req,
                  http::RequestContext&) -> boost::asio::awaitable<http::Response> {
        const std::string base = base_url(settings, req);
        kit::json::Writer w(512);
        w.begin_object()
            .field("issuer", settings.jwt_issuer)
            .field("token_endpoint", base + std::string(kTokenUrl))
            .field("jwks_uri", base + "/.well-known/jwks.json");
        w.key("grant_types_supported")
            .begin_array()
            .value("password")
            .value("refresh_token")
            .end_array();
        w.key("token_endpoint_auth_methods_supported").begin_array().value("none").end_array();
        w.key("response_types_supported").begin_array().end_array();
        w.end_object();
        co_return cached_json(std::move(w).str());
      },
      metadata);
}

}  // namespace user_service::api
