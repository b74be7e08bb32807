#pragma once
// The User Service's settings (docs/configuration.md): typed, validated once at start-up, then
// passed by const reference to whatever needs them. Loading collects every problem and throws one
// kit::config::ConfigError (exit 78) naming them all; secret values never appear in it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kit/config/database_url.hpp"
#include "kit/config/source.hpp"
#include "kit/log/log.hpp"
#include "kit/net/cidr.hpp"
#include "kit/otlp/encoding.hpp"
#include "kit/security/jwt.hpp"
#include "kit/trace/sampler.hpp"
#include "kit/trace/span.hpp"
#include "kit/util/enum_names.hpp"

namespace user_service {

enum class Environment { development, staging, production };
inline constexpr kit::util::EnumNames<Environment, 3> kEnvironmentNames{
    {"development", "staging", "production"}};
using kit::config::DatabaseKind;
using kit::security::JwtAlgorithm;

inline std::string_view to_string(Environment environment) {
  return kEnvironmentNames(environment);
}

// Member defaults are the development defaults; load_settings() is the real source.
struct Settings {
  std::string app_name = "User Service";
  std::string app_version;
  Environment environment = Environment::development;
  bool debug = false;
  std::string host = "0.0.0.0";  // an IP literal
  std::uint16_t port = 8000;     // 0 = pick a free port
  unsigned workers = 1;

  std::string database_url;  // holds secrets: show it through kit::config::mask_url_password
  DatabaseKind database_kind = DatabaseKind::sqlite;
  std::string sqlite_path;  // sqlite only: "./data/user-service.db", "/abs/path.db", ":memory:"
  unsigned database_pool_size = 5;
  unsigned database_pool_max_overflow = 10;
  std::chrono::milliseconds database_pool_timeout{5'000};
  std::chrono::milliseconds database_connect_timeout{30'000};
  std::chrono::milliseconds database_statement_timeout{5'000};  // 0 = none
  bool migrate_on_start = true;

  std::string redis_url;  // empty = no Redis; holds secrets

  JwtAlgorithm jwt_algorithm = JwtAlgorithm::HS256;
  std::string jwt_secret;  // HS*: >= 32 bytes; empty for EdDSA/ES256
  bool jwt_secret_generated = false;
  // EdDSA/ES256: the key files as configured and their keys, in order (the first signs).
  std::vector<std::string> jwt_signing_key_files;
  std::vector<kit::security::SharedSigningKey> jwt_signing_keys;
  bool jwt_signing_key_generated = false;  // development without files: one per process
  unsigned jwt_expiration_minutes = 60;
  std::string jwt_issuer = "user-service";
  std::string jwt_audience = "user-service";
  // Sessions (docs/sessions.md).
  unsigned refresh_token_ttl_days = 30;       // sliding: each refresh moves the expiry
  unsigned session_max_age_days = 90;         // absolute, from sign-in
  unsigned refresh_reuse_grace_seconds = 10;  // a spent token's retry gets the same successor

  unsigned password_hash_memory_kib = 19456;
  unsigned password_hash_iterations = 2;

  std::vector<std::string> cors_allow_origins;  // {"*"} means any origin
  bool cors_allow_credentials = false;

  bool rate_limit_enabled = true;
  unsigned rate_limit_per_minute = 600;
  unsigned login_rate_limit_per_minute = 10;
  bool rate_limit_fail_open = true;
  std::vector<kit::net::Cidr> trusted_proxies;

  std::size_t max_body_bytes = 1'048'576;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds keepalive_timeout{75'000};
  std::size_t max_connections = 10'000;
  std::chrono::milliseconds shutdown_delay{5'000};
  std::chrono::milliseconds shutdown_grace{20'000};

  kit::log::Level log_level = kit::log::Level::info;
  kit::log::Format log_format = kit::log::Format::json;
  bool metrics_enabled = true;
  bool docs_enabled = true;
  std::string docs_assets_url = "https://cdn.jsdelivr.net/npm";  // no trailing '/'
  // scheme://host[:port][/path] without a trailing '/'; empty = from each request's Host.
  // Never empty when emails are sent: their links are built on it.
  std::string public_base_url;

  // Emails (docs/events.md "Emails"): sent through at most one of the two, else logged without
  // their tokens. Both URLs may hold credentials: show them through
  // kit::config::mask_url_password.
  std::string email_service_url;        // http(s); empty = unset
  std::string smtp_url;                 // smtp:// or smtps://; empty = unset
  bool smtp_require_tls = false;        // refuse an smtp:// server without STARTTLS
  std::string email_from;               // local@domain, the SMTP sender; required with smtp_url
  bool require_verified_email = false;  // sign-in of an unverified user is refused

  // Events through the outbox (docs/events.md). Webhook URLs may hold credentials: show them
  // through kit::config::mask_url_password.
  std::vector<std::string> webhook_urls;
  std::string webhook_secret;  // "whsec_<base64>", required with webhook_urls; a secret
  // OUTBOX_MAX_AGE_HOURS (a decimal number of hours, so tests can use seconds).
  std::chrono::milliseconds outbox_max_age{72LL * 3'600'000};

  // Tracing (docs/tracing.md), named as the OpenTelemetry SDK's environment variables.
  std::string otel_endpoint;         // OTEL_EXPORTER_OTLP_ENDPOINT as given (a base URL)
  std::string otel_traces_endpoint;  // the full traces URL; empty = tracing off
  kit::otlp::Encoding otel_encoding = kit::otlp::Encoding::protobuf;
  // OTEL_EXPORTER_OTLP_HEADERS (may hold credentials: never shown).
  std::vector<std::pair<std::string, std::string>> otel_headers;
  std::string otel_service_name;  // default: app_name
  std::vector<kit::trace::Attribute> otel_resource_attributes;
  kit::trace::Sampler otel_sampler;
  std::chrono::milliseconds otel_bsp_schedule_delay{5000};  // the longest a span waits in queue

  std::vector<std::string> warnings;  // non-fatal notices to log at start-up
};

// Reads and validates every setting. Throws kit::config::ConfigError listing ALL problems.
Settings load_settings(const kit::config::Source& source);

// Every setting as NAME -> effective value, in the order of docs/configuration.md "Settings",
// for `check-config`. JWT_SECRET is "***" and URL passwords are masked.
std::vector<std::pair<std::string, std::string>> describe(const Settings& s);

}  // namespace user_service
