#include "service/settings.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "kit/config/database_url.hpp"
#include "kit/config/mask.hpp"
#include "kit/config/parse.hpp"
#include "kit/config/reader.hpp"
#include "kit/config/redis_url.hpp"
#include "kit/otlp/encoding.hpp"
#include "kit/otlp/otlp_json.hpp"
#include "kit/security/key_file.hpp"
#include "kit/security/webhook_signature.hpp"
#include "kit/util/text.hpp"

#ifndef USER_SERVICE_VERSION
#define USER_SERVICE_VERSION "0.0.0-dev"
#endif

namespace user_service {
namespace {

using namespace std::chrono_literals;
using kit::config::Reader;
using kit::config::Sensitivity;

constexpr std::string_view kDefaultDatabaseUrl = "sqlite:///./data/user-service.db";
constexpr std::size_t kMinJwtSecretBytes = 32;
constexpr unsigned kDefaultHashMemoryKib = 19456;  // OWASP's argon2id minimum: 19 MiB, t=2
constexpr unsigned kDefaultHashIterations = 2;
// libsodium's argon2id minimum is 8 KiB; above 4 GiB a single hash would starve the host.
constexpr unsigned kMinHashMemoryKib = crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024;
constexpr unsigned kMaxHashMemoryKib = 4u * 1024 * 1024;
constexpr unsigned kMinHashIterations = crypto_pwhash_argon2id_OPSLIMIT_MIN;
constexpr unsigned kMaxHashIterations = 100;  // beyond this every login takes seconds
constexpr auto kMaxTimeout = std::chrono::milliseconds(24h);
// The jsDelivr mirror of npm: Swagger UI and ReDoc are served from
// <base>/swagger-ui-dist@5/… and <base>/redoc@2/….
constexpr std::string_view kDefaultDocsAssetsUrl = "https://cdn.jsdelivr.net/npm";

struct Context {
  Reader& r;
  Settings& s;
  bool development() const { return s.environment == Environment::development; }
  bool production() const { return s.environment == Environment::production; }
  std::string when_environment() const {
    return "ENVIRONMENT=" + std::string(to_string(s.environment));
  }
};

std::optional<std::string> trimmed(const Reader& r, std::string_view name) {
  auto v = r.value(name);
  if (v) *v = std::string(kit::config::trim(*v));
  return v;
}

// A one-line string shown in logs and documents (names, issuers).
std::string label(Reader& r, std::string_view name, std::string fallback) {
  auto v = r.text(name, fallback);
  if (kit::util::has_control_characters(v)) {
    r.problem(name, "must not contain control characters");
    return fallback;
  }
  return v;
}

void load_app(Context& c) {
  auto& [r, s] = c;
  s.app_name = label(r, "APP_NAME", "User Service");
  s.app_version = label(r, "APP_VERSION", USER_SERVICE_VERSION);
  s.debug = r.boolean("DEBUG", false);
  if (c.production() && s.debug) r.problem("DEBUG", "must be false in production");
}

void load_server(Context& c) {
  auto& [r, s] = c;
  if (const auto host = trimmed(r, "HOST")) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(*host, ec);
    if (ec)
      r.problem("HOST", "must be an IP address such as 0.0.0.0, 127.0.0.1 or ::");
    else
      s.host = address.to_string();
  }
  s.port = r.integer<std::uint16_t>("PORT", 8000, 0, 65535);
  const unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 256u);
  s.workers = r.integer<unsigned>("WORKERS", cores, 1, 256);
}

void load_database(Context& c) {
  auto& [r, s] = c;
  auto url = trimmed(r, "DATABASE_URL");
  if (!url && !c.development())
    r.problem("DATABASE_URL", "is required when " + c.when_environment());
  s.database_url = url.value_or(std::string(kDefaultDatabaseUrl));
  try {
    const auto parsed = kit::config::parse_database_url(s.database_url);
    s.database_kind = parsed.kind;
    s.sqlite_path = parsed.sqlite_path;
  } catch (const std::invalid_argument& e) {
    r.problem("DATABASE_URL", e.what());
  }
  if (c.production() && url && s.database_kind == DatabaseKind::sqlite)
    s.warnings.emplace_back(
        "DATABASE_URL is SQLite in production: run a single replica only (the file is not "
        "shared)");

  s.database_pool_size = r.integer<unsigned>("DATABASE_POOL_SIZE", 5, 1, 1000);
  s.database_pool_max_overflow = r.integer<unsigned>("DATABASE_POOL_MAX_OVERFLOW", 10, 0, 1000);
  s.database_pool_timeout =
      r.seconds("DATABASE_POOL_TIMEOUT_SECONDS", 5s, {.min = 1ms, .max = kMaxTimeout});
  s.database_connect_timeout =
      r.seconds("DATABASE_CONNECT_TIMEOUT_SECONDS", 30s, {.min = 1ms, .max = kMaxTimeout});
  s.database_statement_timeout =
      r.milliseconds("DATABASE_STATEMENT_TIMEOUT_MS", 5000ms, {.min = 0ms, .max = kMaxTimeout});
  s.migrate_on_start = r.boolean("MIGRATE_ON_START", c.development());
}

void load_redis(Context& c) {
  auto& [r, s] = c;
  if (const auto url = trimmed(r, "REDIS_URL")) {
    try {
      kit::config::parse_redis_url(*url);
      s.redis_url = *url;
    } catch (const std::invalid_argument& e) {
      r.problem("REDIS_URL", e.what());
    }
  } else if (c.production()) {
    s.warnings.emplace_back(
        "REDIS_URL is empty in production: rate limits are counted per replica, not shared");
  }
}

std::string random_secret() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  unsigned char bytes[kMinJwtSecretBytes];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  sodium_memzero(bytes, sizeof bytes);
  std::string secret(hex);
  sodium_memzero(hex, sizeof hex);
  return secret;
}

void load_jwt_secret(Context& c) {
  auto& [r, s] = c;
  // Copied, not moved, out of the optional: GCC 12 reports a false -Warray-bounds on the move.
  if (const auto secret = r.value("JWT_SECRET")) {
    if (secret->size() < kMinJwtSecretBytes)
      r.problem("JWT_SECRET", "must be at least 32 bytes");
    else
      s.jwt_secret = *secret;
  } else if (c.development()) {
    s.jwt_secret = random_secret();
    s.jwt_secret_generated = true;
    s.warnings.emplace_back(
        "JWT_SECRET is not set: using a random secret for this process only; tokens stop "
        "working on restart and are not accepted by other replicas");
  } else {
    r.problem("JWT_SECRET", "is required when " + c.when_environment());
  }
  if (r.is_set("JWT_SIGNING_KEYS"))
    s.warnings.emplace_back("JWT_SIGNING_KEYS is not used with JWT_ALGORITHM=" +
                            std::string(to_string(s.jwt_algorithm)) + " (HMAC uses JWT_SECRET)");
}

// EdDSA/ES256 (docs/signing-keys.md): every listed file is read now, so that each problem is
// reported with the other configuration errors rather than at the first token.
void load_signing_keys(Context& c, kit::security::KeyType type) {
  auto& [r, s] = c;
  const std::string algorithm(to_string(s.jwt_algorithm));
  if (r.is_set("JWT_SECRET"))
    s.warnings.emplace_back("JWT_SECRET is not used with JWT_ALGORITHM=" + algorithm +
                            " (tokens are signed with JWT_SIGNING_KEYS)");
  s.jwt_signing_key_files = r.list("JWT_SIGNING_KEYS", {});
  if (s.jwt_signing_key_files.empty()) {
    if (!c.development()) {
      r.problem("JWT_SIGNING_KEYS",
                "is required when JWT_ALGORITHM=" + algorithm + " and " + c.when_environment() +
                    ": list PEM private-key files (user-service keys generate)");
      return;
    }
    s.jwt_signing_keys.push_back(std::make_shared<const kit::security::SigningKey>(
        kit::security::SigningKey::generate(type)));
    s.jwt_signing_key_generated = true;
    s.warnings.emplace_back(
        "JWT_SIGNING_KEYS is not set: using a new " +
        std::string(kit::security::kKeyTypeNames(type)) +
        " key for this process only; tokens stop working on restart and are not accepted by "
        "other replicas");
    return;
  }
  for (const auto& file : s.jwt_signing_key_files) {
    try {
      auto key =
          std::make_shared<const kit::security::SigningKey>(kit::security::read_key_file(file));
      if (key->type() != type) {
        const bool ed = key->type() == kit::security::KeyType::ed25519;
        r.problem("JWT_SIGNING_KEYS", "'" + file + "' holds " + (ed ? "an " : "a ") +
                                          std::string(kit::security::kKeyTypeNames(key->type())) +
                                          " key; JWT_ALGORITHM=" + algorithm + " signs with " +
                                          std::string(kit::security::kKeyTypeNames(type)) +
                                          " keys");
        continue;
      }
      const auto same = [&key](const auto& k) { return k->kid() == key->kid(); };
      if (std::any_of(s.jwt_signing_keys.begin(), s.jwt_signing_keys.end(), same)) {
        r.problem("JWT_SIGNING_KEYS", "'" + file + "' holds a key listed before it");
        continue;
      }
      s.jwt_signing_keys.push_back(std::move(key));
    } catch (const std::invalid_argument& e) {
      r.problem("JWT_SIGNING_KEYS", "'" + file + "' " + e.what());
    }
  }
}

void load_jwt(Context& c) {
  auto& [r, s] = c;
  s.jwt_algorithm =
      r.one_of("JWT_ALGORITHM", JwtAlgorithm::HS256, kit::security::kJwtAlgorithmNames);
  if (const auto type = kit::security::key_type_for(s.jwt_algorithm))
    load_signing_keys(c, *type);
  else
    load_jwt_secret(c);
  s.jwt_expiration_minutes = r.integer<unsigned>("JWT_EXPIRATION_MINUTES", 60, 1, 43200);
  s.jwt_issuer = label(r, "JWT_ISSUER", "user-service");
  s.jwt_audience = label(r, "JWT_AUDIENCE", "user-service");
  s.refresh_token_ttl_days = r.integer<unsigned>("REFRESH_TOKEN_TTL_DAYS", 30, 1, 3650);
  s.session_max_age_days = r.integer<unsigned>("SESSION_MAX_AGE_DAYS", 90, 1, 3650);
  s.refresh_reuse_grace_seconds = r.integer<unsigned>("REFRESH_REUSE_GRACE_SECONDS", 10, 0, 300);
}

void load_password_hashing(Context& c) {
  auto& [r, s] = c;
  s.password_hash_memory_kib = r.integer<unsigned>(
      "PASSWORD_HASH_MEMORY_KIB", kDefaultHashMemoryKib, kMinHashMemoryKib, kMaxHashMemoryKib);
  s.password_hash_iterations = r.integer<unsigned>(
      "PASSWORD_HASH_ITERATIONS", kDefaultHashIterations, kMinHashIterations, kMaxHashIterations);
  if (!c.production()) return;
  if (s.password_hash_memory_kib < kDefaultHashMemoryKib)
    r.problem("PASSWORD_HASH_MEMORY_KIB",
              "must be at least " + std::to_string(kDefaultHashMemoryKib) + " in production");
  if (s.password_hash_iterations < kDefaultHashIterations)
    r.problem("PASSWORD_HASH_ITERATIONS",
              "must be at least " + std::to_string(kDefaultHashIterations) + " in production");
}

// A browser sends Origin as scheme://host[:port], lowercase, with no path: a configured
// "https://app.example.com/" would never match, so it is refused rather than ignored.
bool is_origin(std::string_view o) {
  const auto sep = o.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  const auto scheme = o.substr(0, sep);
  const auto rest = o.substr(sep + 3);
  const auto scheme_ok = std::all_of(scheme.begin(), scheme.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' ||
           ch == '.';
  });
  const auto rest_ok = !rest.empty() && std::none_of(rest.begin(), rest.end(), [](char ch) {
    return ch == '/' || ch == '?' || ch == '#' || ch == '@' || ch == '*' ||
           static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f;
  });
  return scheme_ok && scheme.front() >= 'a' && scheme.front() <= 'z' && rest_ok;
}

void load_cors(Context& c) {
  auto& [r, s] = c;
  const bool origins_set = r.raw("CORS_ALLOW_ORIGINS").has_value();
  auto origins = r.list("CORS_ALLOW_ORIGINS", c.development() ? std::vector<std::string>{"*"}
                                                              : std::vector<std::string>{});
  s.cors_allow_credentials = r.boolean("CORS_ALLOW_CREDENTIALS", false);

  const bool wildcard = std::find(origins.begin(), origins.end(), "*") != origins.end();
  bool ok = true;
  if (wildcard && origins.size() > 1) {
    r.problem("CORS_ALLOW_ORIGINS", "'*' cannot be combined with other origins");
    ok = false;
  }
  for (auto& origin : origins) {
    if (origin == "*") continue;
    origin = kit::util::ascii_lowercase(origin);
    if (!is_origin(origin)) {
      r.problem("CORS_ALLOW_ORIGINS", "'" + origin +
                                          "' is not an origin: write scheme://host[:port] "
                                          "without a path or trailing slash");
      ok = false;
    }
  }
  if (wildcard && s.cors_allow_credentials) {
    r.problem("CORS_ALLOW_ORIGINS",
              origins_set ? "'*' cannot be used with CORS_ALLOW_CREDENTIALS=true; list the "
                            "allowed origins"
                          : "the development default '*' cannot be used with "
                            "CORS_ALLOW_CREDENTIALS=true; list the allowed origins");
    ok = false;
  }
  if (wildcard && c.production()) {
    r.problem("CORS_ALLOW_ORIGINS", "'*' is refused in production; list the allowed origins");
    ok = false;
  }
  if (ok) s.cors_allow_origins = std::move(origins);
}

void load_rate_limits(Context& c) {
  auto& [r, s] = c;
  s.rate_limit_enabled = r.boolean("RATE_LIMIT_ENABLED", true);
  s.rate_limit_per_minute = r.integer<unsigned>("RATE_LIMIT_PER_MINUTE", 600, 1, 1'000'000);
  s.login_rate_limit_per_minute =
      r.integer<unsigned>("LOGIN_RATE_LIMIT_PER_MINUTE", 10, 1, 1'000'000);
  s.rate_limit_fail_open = r.boolean("RATE_LIMIT_FAIL_OPEN", true);
  for (const auto& item : r.list("TRUSTED_PROXIES", {})) {
    if (auto cidr = kit::net::Cidr::parse(item)) {
      s.trusted_proxies.push_back(*cidr);
    } else if (item == "*") {
      r.problem("TRUSTED_PROXIES", "'*' is not accepted: write 0.0.0.0/0,::/0 to trust everyone");
    } else {
      r.problem("TRUSTED_PROXIES",
                "'" + item + "' is not an IP address or CIDR such as 10.0.0.0/8 or fd00::/8");
    }
  }
}

void load_http_limits(Context& c) {
  auto& [r, s] = c;
  s.max_body_bytes = r.integer<std::size_t>("MAX_BODY_BYTES", 1'048'576, 1, 1024 * 1024 * 1024);
  s.request_timeout = r.seconds("REQUEST_TIMEOUT_SECONDS", 30s, {.min = 1ms, .max = kMaxTimeout});
  s.keepalive_timeout =
      r.seconds("KEEPALIVE_TIMEOUT_SECONDS", 75s, {.min = 1ms, .max = kMaxTimeout});
  s.max_connections = r.integer<std::size_t>("MAX_CONNECTIONS", 10'000, 1, 1'000'000);
  // Development has no load balancer to wait for: Ctrl-C stops at once.
  s.shutdown_delay = r.seconds("SHUTDOWN_DELAY_SECONDS", c.development() ? 0s : 5s,
                               {.min = 0ms, .max = kMaxTimeout});
  s.shutdown_grace = r.seconds("SHUTDOWN_GRACE_SECONDS", 20s, {.min = 0ms, .max = kMaxTimeout});
}

// A base for <script src> and <link href> in the docs pages: an http(s) URL or an absolute
// path, with nothing that could break out of an HTML attribute.
bool is_assets_base(std::string_view u) {
  const bool form = u.starts_with("https://") || u.starts_with("http://") ||
                    (u.starts_with('/') && !u.starts_with("//"));
  const bool clean = std::none_of(u.begin(), u.end(), [](char ch) {
    return ch == '"' || ch == '\'' || ch == '<' || ch == '>' || ch == '\\' || ch == '`' ||
           static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f;
  });
  return form && clean;
}

void load_observability(Context& c) {
  auto& [r, s] = c;
  if (const auto v = trimmed(r, "LOG_LEVEL")) {
    if (const auto level = kit::log::parse_level(kit::util::ascii_lowercase(*v)))
      s.log_level = *level;
    else
      r.problem("LOG_LEVEL", "must be one of debug, info, warning or error");
  }
  if (const auto v = trimmed(r, "LOG_FORMAT")) {
    if (const auto format = kit::log::parse_format(kit::util::ascii_lowercase(*v)))
      s.log_format = *format;
    else
      r.problem("LOG_FORMAT", "must be json or console");
  }
  s.metrics_enabled = r.boolean("METRICS_ENABLED", true);
  s.docs_enabled = r.boolean("DOCS_ENABLED", !c.production());
  auto assets = trimmed(r, "DOCS_ASSETS_URL").value_or(std::string(kDefaultDocsAssetsUrl));
  while (assets.size() > 1 && assets.ends_with('/')) assets.pop_back();
  if (is_assets_base(assets))
    s.docs_assets_url = std::move(assets);
  else
    r.problem("DOCS_ASSETS_URL", "must be an http(s) URL or an absolute path such as /static");
}

// Where clients reach the service (links, RFC 8414 metadata): http(s)://host[:port][/path],
// with nothing after the path and no character that needs escaping in JSON or HTML.
bool is_public_base_url(std::string_view u) {
  const auto rest = u.starts_with("https://")  ? u.substr(8)
                    : u.starts_with("http://") ? u.substr(7)
                                               : std::string_view();
  const bool clean = std::all_of(u.begin(), u.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           std::string_view("-._~:/[]%").find(ch) != std::string_view::npos;
  });
  return clean && !rest.empty() && rest.front() != '/';
}

// False when the value was refused (a problem of its own already).
bool load_public_url(Context& c) {
  auto& [r, s] = c;
  auto url = trimmed(r, "PUBLIC_BASE_URL").value_or("");
  while (url.ends_with('/')) url.pop_back();
  if (url.empty()) return true;  // URLs are then built from each request's Host header
  if (is_public_base_url(url)) {
    s.public_base_url = std::move(url);
    return true;
  }
  r.problem("PUBLIC_BASE_URL",
            "must be an http(s) URL such as https://users.example.com, without query or "
            "fragment");
  return false;
}

// A webhook receiver or an email service: an http(s) URL with a host and nothing that needs
// escaping.
bool is_http_url(std::string_view u) {
  const auto rest = u.starts_with("https://")  ? u.substr(8)
                    : u.starts_with("http://") ? u.substr(7)
                                               : std::string_view();
  const bool clean = std::none_of(u.begin(), u.end(), [](char ch) {
    return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '"' || ch == '<' ||
           ch == '>' || ch == '\\' || ch == '#';
  });
  return clean && !rest.empty() && rest.front() != '/';
}

bool is_host_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '.' || ch == '_';
}

// SMTP_URL as libcurl takes it: smtp:// or smtps://, optional user:password@, a host (a name,
// IPv4 or [IPv6]) and an optional port, nothing after them. Returns the problem, if any, in
// words that never quote the URL (it holds the password).
std::optional<std::string> smtp_url_problem(std::string_view u) {
  constexpr std::string_view kForm = "must be smtp://[user:password@]host[:port] or smtps://…";
  const auto sep = u.find("://");
  if (sep == std::string_view::npos) return std::string(kForm);
  const auto scheme = kit::util::ascii_lowercase(u.substr(0, sep));
  if (scheme != "smtp" && scheme != "smtps")
    return std::string(kForm) + " (the scheme is not smtp or smtps)";
  auto rest = u.substr(sep + 3);
  if (std::any_of(u.begin(), u.end(),
                  [](char ch) { return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f; }))
    return "must not contain blanks or control characters";
  // libcurl ends the user information at the first '/', '?' or '#' and splits it at an '@':
  // such characters in a password must be percent-encoded or the password is cut.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    if (userinfo.find_first_of("@/?#") != std::string_view::npos)
      return "percent-encode '@', '/', '?' and '#' in the user and password (%40, %2F, %3F, %23)";
    rest.remove_prefix(at + 1);
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos)
    return "takes no path, query or fragment after host[:port]";
  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return "an IPv6 host needs a closing ']'";
    host = rest.substr(1, close - 1);
    const auto after = rest.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      return "unexpected characters after the IPv6 host";
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    const auto ipv6_char = [](char ch) {
      return ch == ':' || ch == '.' || std::isxdigit(static_cast<unsigned char>(ch));
    };
    if (host.empty() || !std::all_of(host.begin(), host.end(), ipv6_char))
      return "the IPv6 host is not valid";
  } else {
    const auto colon = rest.find(':');
    host = rest.substr(0, colon);
    has_port = colon != std::string_view::npos;
    if (has_port) port = rest.substr(colon + 1);
    if (host.empty()) return "a host is required";
    if (!std::all_of(host.begin(), host.end(), is_host_char))
      return "the host is not a valid name or address";
  }
  if (has_port) {
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535)
      return "the port must be from 1 to 65535";
  }
  return std::nullopt;
}

// kit::outbound::send_mail writes the sender into the envelope and the From header as it is,
// so it takes a plain address only: one '@' with something on both sides, ASCII, and nothing
// that would end, split or quote a header (no blanks, line breaks, quotes, commas or brackets).
bool is_mail_address(std::string_view a) {
  const auto at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size() ||
      a.find('@', at + 1) != std::string_view::npos)
    return false;
  return std::none_of(a.begin(), a.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u <= 0x20 || u >= 0x7f ||
           std::string_view("<>,;:\"()[]\\").find(ch) != std::string_view::npos;
  });
}

void load_email(Context& c, bool public_base_url_accepted) {
  auto& [r, s] = c;
  const auto service = trimmed(r, "EMAIL_SERVICE_URL");
  const auto smtp = trimmed(r, "SMTP_URL");
  if (service) {
    if (smtp)
      r.problem("EMAIL_SERVICE_URL",
                "cannot be set together with SMTP_URL: emails are sent through one of them");
    else if (!is_http_url(*service))
      r.problem("EMAIL_SERVICE_URL",
                "must be an http(s) URL with a host, such as https://mail.internal/send");
    else
      s.email_service_url = *service;
  }
  if (smtp) {
    if (const auto problem = smtp_url_problem(*smtp))
      r.problem("SMTP_URL", *problem);
    else if (!service)
      s.smtp_url = *smtp;
  }
  s.smtp_require_tls = r.boolean("SMTP_REQUIRE_TLS", false);
  if (const auto from = trimmed(r, "EMAIL_FROM")) {
    if (from->find('<') != std::string::npos && from->ends_with('>'))
      r.problem("EMAIL_FROM",
                "must be a plain address such as no-reply@example.com: the form 'Name <address>' "
                "is not supported");
    else if (!is_mail_address(*from))
      r.problem("EMAIL_FROM",
                "must be a plain email address such as no-reply@example.com (one '@'; no blanks, "
                "line breaks, quotes, commas or brackets)");
    else
      s.email_from = *from;
    if (service && !smtp)
      s.warnings.emplace_back(
          "EMAIL_FROM is not used with EMAIL_SERVICE_URL (the email service sets the sender)");
  } else if (smtp) {
    r.problem("EMAIL_FROM", "is required when SMTP_URL is set: the sender of every email");
  }
  s.require_verified_email = r.boolean("REQUIRE_VERIFIED_EMAIL", false);

  if (service || smtp) {
    if (s.public_base_url.empty() && public_base_url_accepted)
      r.problem("PUBLIC_BASE_URL",
                "is required when emails are sent (EMAIL_SERVICE_URL or SMTP_URL): links in "
                "emails are never built from a request's Host");
    return;
  }
  s.warnings.emplace_back(
      "EMAIL_SERVICE_URL and SMTP_URL are not set: emails (email verification, password reset) "
      "are logged without their tokens and not sent");
  if (s.require_verified_email)
    s.warnings.emplace_back(
        "REQUIRE_VERIFIED_EMAIL is true but no email is sent (EMAIL_SERVICE_URL, SMTP_URL): new "
        "users cannot verify their address, so they cannot sign in");
}

void load_events(Context& c) {
  auto& [r, s] = c;
  for (const auto& url : r.list("WEBHOOK_URLS", {})) {
    if (!is_http_url(url)) {
      // The URL may hold credentials: named by its position, not echoed.
      r.problem("WEBHOOK_URLS", "item " + std::to_string(s.webhook_urls.size() + 1) +
                                    " is not an http(s) URL with a host");
      continue;
    }
    if (std::find(s.webhook_urls.begin(), s.webhook_urls.end(), url) != s.webhook_urls.end()) {
      r.problem("WEBHOOK_URLS", "lists one URL twice");
      continue;
    }
    s.webhook_urls.push_back(url);
  }
  // Empty is unset: a Secret with an empty key (deploy/k8s) leaves webhooks off.
  if (const auto secret = r.value("WEBHOOK_SECRET"); secret && !secret->empty()) {
    if (kit::security::WebhookSecret::parse(*secret))
      s.webhook_secret = *secret;
    else
      r.problem("WEBHOOK_SECRET", "must be whsec_ followed by the base64 of 24 to 64 bytes");
  } else if (!s.webhook_urls.empty()) {
    r.problem("WEBHOOK_SECRET", "is required when WEBHOOK_URLS is set (receivers verify with it)");
  }
  if (const auto v = trimmed(r, "OUTBOX_MAX_AGE_HOURS")) {
    double hours = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), hours);
    const double ms = hours * 3'600'000.0;
    if (ec != std::errc() || end != v->data() + v->size() || !std::isfinite(hours) || ms < 1000.0 ||
        hours > 8760.0) {
      r.problem("OUTBOX_MAX_AGE_HOURS",
                "must be a number of hours from 1 second's worth to 8760, such as 72 or 0.5");
    } else {
      s.outbox_max_age = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
    }
  }
}

// OpenTelemetry's variables (docs/tracing.md): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
// OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces added, turns tracing on.
void load_tracing(Context& c) {
  auto& [r, s] = c;
  const auto traces = trimmed(r, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const auto base = trimmed(r, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (traces && !traces->empty()) {
    if (is_http_url(*traces))
      s.otel_traces_endpoint = *traces;
    else
      r.problem("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "must be an http(s) URL with a host, such as http://collector:4318/v1/traces");
  } else if (base && !base->empty()) {
    std::string url = *base;
    while (url.ends_with('/')) url.pop_back();
    if (is_http_url(url)) {
      s.otel_endpoint = url;
      s.otel_traces_endpoint = url + "/v1/traces";
    } else
      r.problem("OTEL_EXPORTER_OTLP_ENDPOINT",
                "must be an http(s) URL with a host, such as http://collector:4318");
  }
  // The traces-only variable wins over the general one, as in the SDK.
  for (const char* name : {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"}) {
    const auto protocol = trimmed(r, name);
    if (!protocol || protocol->empty()) continue;
    if (const auto encoding = kit::otlp::parse_encoding(*protocol)) {
      s.otel_encoding = *encoding;
    } else {
      r.problem(name,
                "must be http/protobuf or http/json, the encodings this build exports (grpc is "
                "not built)");
    }
    break;
  }
  if (const auto headers = r.value("OTEL_EXPORTER_OTLP_HEADERS"); headers && !headers->empty()) {
    std::string error;
    if (const auto parsed = kit::otlp::parse_resource_attributes(*headers, error)) {
      for (const auto& h : *parsed) {
        s.otel_headers.emplace_back(h.key, std::get<std::string>(h.value));
      }
    } else {
      r.problem("OTEL_EXPORTER_OTLP_HEADERS",
                "must be key=value pairs separated by commas, values percent-encoded");
    }
  }
  s.otel_service_name = label(r, "OTEL_SERVICE_NAME", s.app_name);
  if (const auto attrs = r.value("OTEL_RESOURCE_ATTRIBUTES"); attrs && !attrs->empty()) {
    std::string error;
    if (auto parsed = kit::otlp::parse_resource_attributes(*attrs, error))
      s.otel_resource_attributes = std::move(*parsed);
    else
      r.problem("OTEL_RESOURCE_ATTRIBUTES", error.substr(error.find(' ') + 1));
  }
  if (const auto v = trimmed(r, "OTEL_BSP_SCHEDULE_DELAY"); v && !v->empty()) {
    unsigned ms = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
    if (ec != std::errc() || end != v->data() + v->size() || ms < 1 || ms > 60'000)
      r.problem("OTEL_BSP_SCHEDULE_DELAY", "must be milliseconds from 1 to 60000");
    else
      s.otel_bsp_schedule_delay = std::chrono::milliseconds(ms);
  }
  const std::string sampler = kit::util::ascii_lowercase(
      trimmed(r, "OTEL_TRACES_SAMPLER").value_or("parentbased_always_on"));
  const std::string arg = trimmed(r, "OTEL_TRACES_SAMPLER_ARG").value_or("");
  std::string error;
  if (auto parsed = kit::trace::Sampler::parse(sampler, arg, error)) {
    s.otel_sampler = *parsed;
  } else {
    const bool arg_problem = error.starts_with("OTEL_TRACES_SAMPLER_ARG");
    r.problem(arg_problem ? "OTEL_TRACES_SAMPLER_ARG" : "OTEL_TRACES_SAMPLER",
              error.substr(error.find(' ') + 1));
  }
}

}  // namespace

Settings load_settings(const kit::config::Source& source) {
  Reader r(source);
  r.sensitive("JWT_SECRET", Sensitivity::secret)
      .sensitive("DATABASE_URL", Sensitivity::credentials_url)
      .sensitive("REDIS_URL", Sensitivity::credentials_url)
      .sensitive("WEBHOOK_SECRET", Sensitivity::secret)
      .sensitive("WEBHOOK_URLS", Sensitivity::secret)
      // A query may carry an API key that mask_url_password does not know: length only.
      .sensitive("EMAIL_SERVICE_URL", Sensitivity::secret)
      .sensitive("SMTP_URL", Sensitivity::credentials_url)
      .sensitive("OTEL_EXPORTER_OTLP_HEADERS", Sensitivity::secret)
      .sensitive("OTEL_EXPORTER_OTLP_ENDPOINT", Sensitivity::credentials_url)
      .sensitive("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Sensitivity::credentials_url);

  Settings s;
  s.environment = r.one_of("ENVIRONMENT", Environment::development, kEnvironmentNames);
  Context c{r, s};
  load_app(c);
  load_server(c);
  load_database(c);
  load_redis(c);
  load_jwt(c);
  load_password_hashing(c);
  load_cors(c);
  load_rate_limits(c);
  load_http_limits(c);
  load_observability(c);
  const bool public_base_url_accepted = load_public_url(c);
  load_email(c, public_base_url_accepted);
  load_events(c);
  load_tracing(c);
  r.throw_if_any();
  return s;
}

namespace {

// "keys/a.pem (kid …),keys/b.pem (kid …)": the paths as configured and the key ids they hold.
std::string signing_keys(const Settings& s) {
  if (s.jwt_signing_key_generated)
    return "(one key for this process, kid " + s.jwt_signing_keys.front()->kid() + ")";
  std::string out;
  for (std::size_t i = 0; i < s.jwt_signing_key_files.size(); ++i) {
    if (!out.empty()) out += ',';
    out += s.jwt_signing_key_files[i];
    if (i < s.jwt_signing_keys.size()) out += " (kid " + s.jwt_signing_keys[i]->kid() + ")";
  }
  return out;
}

}  // namespace

// OTEL_RESOURCE_ATTRIBUTES as it was read, for check-config.
std::string resource_attributes(const std::vector<kit::trace::Attribute>& attributes) {
  std::string out;
  for (const auto& a : attributes) {
    if (!out.empty()) out += ',';
    out += a.key + '=' + std::get<std::string>(a.value);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> describe(const Settings& s) {
  using kit::config::format_seconds;
  using kit::config::mask_url_password;
  const auto yes_no = [](bool b) { return std::string(b ? "true" : "false"); };
  const auto join = [](const auto& items, auto&& show) {
    std::string out;
    for (const auto& item : items) {
      if (!out.empty()) out += ',';
      out += show(item);
    }
    return out;
  };
  const auto same = [](const std::string& v) { return v; };
  const auto cidr = [](const kit::net::Cidr& v) { return v.to_string(); };
  return {
      {"APP_NAME", s.app_name},
      {"APP_VERSION", s.app_version},
      {"ENVIRONMENT", std::string(to_string(s.environment))},
      {"DEBUG", yes_no(s.debug)},
      {"HOST", s.host},
      {"PORT", std::to_string(s.port)},
      {"WORKERS", std::to_string(s.workers)},
      {"DATABASE_URL", mask_url_password(s.database_url)},
      {"DATABASE_POOL_SIZE", std::to_string(s.database_pool_size)},
      {"DATABASE_POOL_MAX_OVERFLOW", std::to_string(s.database_pool_max_overflow)},
      {"DATABASE_POOL_TIMEOUT_SECONDS", format_seconds(s.database_pool_timeout)},
      {"DATABASE_CONNECT_TIMEOUT_SECONDS", format_seconds(s.database_connect_timeout)},
      {"DATABASE_STATEMENT_TIMEOUT_MS", std::to_string(s.database_statement_timeout.count())},
      {"MIGRATE_ON_START", yes_no(s.migrate_on_start)},
      {"REDIS_URL", mask_url_password(s.redis_url)},
      {"JWT_SECRET", "***"},
      {"JWT_ALGORITHM", std::string(to_string(s.jwt_algorithm))},
      {"JWT_SIGNING_KEYS", signing_keys(s)},
      {"JWT_EXPIRATION_MINUTES", std::to_string(s.jwt_expiration_minutes)},
      {"JWT_ISSUER", s.jwt_issuer},
      {"JWT_AUDIENCE", s.jwt_audience},
      {"REFRESH_TOKEN_TTL_DAYS", std::to_string(s.refresh_token_ttl_days)},
      {"SESSION_MAX_AGE_DAYS", std::to_string(s.session_max_age_days)},
      {"REFRESH_REUSE_GRACE_SECONDS", std::to_string(s.refresh_reuse_grace_seconds)},
      {"PASSWORD_HASH_MEMORY_KIB", std::to_string(s.password_hash_memory_kib)},
      {"PASSWORD_HASH_ITERATIONS", std::to_string(s.password_hash_iterations)},
      {"CORS_ALLOW_ORIGINS", join(s.cors_allow_origins, same)},
      {"CORS_ALLOW_CREDENTIALS", yes_no(s.cors_allow_credentials)},
      {"RATE_LIMIT_ENABLED", yes_no(s.rate_limit_enabled)},
      {"RATE_LIMIT_PER_MINUTE", std::to_string(s.rate_limit_per_minute)},
      {"LOGIN_RATE_LIMIT_PER_MINUTE", std::to_string(s.login_rate_limit_per_minute)},
      {"RATE_LIMIT_FAIL_OPEN", yes_no(s.rate_limit_fail_open)},
      {"TRUSTED_PROXIES", join(s.trusted_proxies, cidr)},
      {"MAX_BODY_BYTES", std::to_string(s.max_body_bytes)},
      {"REQUEST_TIMEOUT_SECONDS", format_seconds(s.request_timeout)},
      {"KEEPALIVE_TIMEOUT_SECONDS", format_seconds(s.keepalive_timeout)},
      {"MAX_CONNECTIONS", std::to_string(s.max_connections)},
      {"SHUTDOWN_DELAY_SECONDS", format_seconds(s.shutdown_delay)},
      {"SHUTDOWN_GRACE_SECONDS", format_seconds(s.shutdown_grace)},
      {"LOG_LEVEL", std::string(kit::log::to_string(s.log_level))},
      {"LOG_FORMAT", std::string(kit::log::to_string(s.log_format))},
      {"METRICS_ENABLED", yes_no(s.metrics_enabled)},
      {"DOCS_ENABLED", yes_no(s.docs_enabled)},
      {"DOCS_ASSETS_URL", s.docs_assets_url},
      {"PUBLIC_BASE_URL", s.public_base_url},
      {"EMAIL_SERVICE_URL", mask_url_password(s.email_service_url)},
      {"SMTP_URL", mask_url_password(s.smtp_url)},
      {"SMTP_REQUIRE_TLS", yes_no(s.smtp_require_tls)},
      {"EMAIL_FROM", s.email_from},
      {"REQUIRE_VERIFIED_EMAIL", yes_no(s.require_verified_email)},
      {"WEBHOOK_URLS", join(s.webhook_urls, mask_url_password)},
      {"WEBHOOK_SECRET", s.webhook_secret.empty() ? "" : "***"},
      {"OUTBOX_MAX_AGE_HOURS",
       fmt::format("{}", static_cast<double>(s.outbox_max_age.count()) / 3'600'000.0)},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", mask_url_password(s.otel_endpoint)},
      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", mask_url_password(s.otel_traces_endpoint)},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", std::string(kit::otlp::protocol_name(s.otel_encoding))},
      {"OTEL_EXPORTER_OTLP_HEADERS", s.otel_headers.empty() ? "" : "***"},
      {"OTEL_SERVICE_NAME", s.otel_service_name},
      {"OTEL_RESOURCE_ATTRIBUTES", resource_attributes(s.otel_resource_attributes)},
      {"OTEL_TRACES_SAMPLER", s.otel_sampler.name()},
      {"OTEL_TRACES_SAMPLER_ARG", fmt::format("{}", s.otel_sampler.ratio())},
      {"OTEL_BSP_SCHEDULE_DELAY", std::to_string(s.otel_bsp_schedule_delay.count())},
  };
}

}  // namespace user_service
