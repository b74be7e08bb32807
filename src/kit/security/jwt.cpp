#include "kit/security/jwt.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <optional>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>
#include <sodium.h>

#include "kit/json/writer.hpp"
#include "kit/security/base64url.hpp"
#include "kit/security/constant_time.hpp"
#include "kit/security/sodium.hpp"
#include "kit/security/strict_json.hpp"
#include "kit/security/verified_tokens.hpp"

namespace kit::security {
namespace {

// Headers and payloads are flat objects; a custom claim may nest a little, nothing needs more.
constexpr StrictJsonLimits kJsonLimits{.max_bytes = JwtCodec::kMaxTokenBytes, .max_depth = 8};

constexpr std::size_t kJtiBytes = 16;

constexpr std::chrono::seconds kMaxLifetime = std::chrono::hours(24 * 366 * 10);
constexpr std::chrono::seconds kMaxLeeway = std::chrono::hours(24);

// The HMAC digest; nullptr for the public-key algorithms.
const EVP_MD* hmac_digest_for(JwtAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case JwtAlgorithm::HS256:
      return EVP_sha256();
    case JwtAlgorithm::HS384:
      return EVP_sha384();
    case JwtAlgorithm::HS512:
      return EVP_sha512();
    case JwtAlgorithm::EdDSA:
    case JwtAlgorithm::ES256:
      return nullptr;
  }
  return nullptr;
}

// Checks the key list of a public-key algorithm; throws std::invalid_argument.
void check_keys(const JwtConfig& config, KeyType type) {
  if (config.keys.empty()) throw std::invalid_argument("JWT signing keys must not be empty");
  for (std::size_t i = 0; i < config.keys.size(); ++i) {
    const auto& key = config.keys[i];
    if (!key || key->type() != type) {
      throw std::invalid_argument("every JWT signing key must be a " +
                                  std::string(kKeyTypeNames(type)) + " key");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (config.keys[j]->kid() == key->kid()) {
        throw std::invalid_argument("JWT signing key " + key->kid() + " is listed twice");
      }
    }
  }
}

std::int64_t to_unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// exp, then iat and nbf, against `now` with the leeway. Only `now` and the bounded leeway are
// used in arithmetic, never the token's values, so a hostile exp/iat near INT64_MIN/MAX cannot
// overflow anything.
std::optional<TokenError> time_error(const TokenClaims& claims,
                                     std::chrono::system_clock::time_point now,
                                     std::chrono::seconds leeway) {
  const std::int64_t now_s = to_unix_seconds(now);
  if (claims.exp <= now_s - leeway.count()) return TokenError::expired;
  if (std::max(claims.iat, claims.nbf) > now_s + leeway.count()) {
    return TokenError::not_yet_valid;
  }
  return std::nullopt;
}

std::string random_jti() {
  ensure_sodium_initialized();
  std::array<unsigned char, kJtiBytes> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, kJtiBytes * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return std::string(hex.data(), kJtiBytes * 2);
}

std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

// Looks up `name` and sorts out the three outcomes claim checks need to tell apart.
enum class Lookup { found, missing, wrong_type };

Lookup find_string(const rapidjson::Value& object, const char* name, std::string_view& out) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return Lookup::missing;
  if (!it->value.IsString()) return Lookup::wrong_type;
  out = std::string_view(it->value.GetString(), it->value.GetStringLength());
  return Lookup::found;
}

// NumericDate claims must be integers that fit in int64: RapidJSON reports 1.0, 1e3 and
// anything past int64 as Double or Uint64, so IsInt64() rejects fractions and overflow alike.
Lookup find_int64(const rapidjson::Value& object, const char* name, std::int64_t& out) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return Lookup::missing;
  if (!it->value.IsInt64()) return Lookup::wrong_type;
  out = it->value.GetInt64();
  return Lookup::found;
}

// `aud` may be one string or an array of strings (RFC 7519 §4.1.3); ours must be among them.
std::optional<TokenError> check_audience(const rapidjson::Value& aud, std::string_view expected) {
  if (aud.IsString()) {
    const std::string_view value(aud.GetString(), aud.GetStringLength());
    return value == expected ? std::nullopt : std::optional(TokenError::bad_audience);
  }
  if (!aud.IsArray()) return TokenError::malformed;
  bool found = false;
  for (const auto& entry : aud.GetArray()) {
    if (!entry.IsString()) return TokenError::malformed;
    if (std::string_view(entry.GetString(), entry.GetStringLength()) == expected) found = true;
  }
  return found ? std::nullopt : std::optional(TokenError::bad_audience);
}

}  // namespace

std::string_view to_string(JwtAlgorithm algorithm) noexcept {
  return kJwtAlgorithmNames(algorithm);
}

std::optional<KeyType> key_type_for(JwtAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case JwtAlgorithm::EdDSA:
      return KeyType::ed25519;
    case JwtAlgorithm::ES256:
      return KeyType::p256;
    case JwtAlgorithm::HS256:
    case JwtAlgorithm::HS384:
    case JwtAlgorithm::HS512:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string_view to_string(TokenError error) noexcept {
  static constexpr util::EnumNames<TokenError, 10> kNames{
      {"too_large", "malformed", "bad_algorithm", "unknown_key", "bad_signature", "missing_claim",
       "bad_issuer", "bad_audience", "expired", "not_yet_valid"}};
  return kNames(error);
}

JwtCodec::JwtCodec(JwtConfig config) : config_(std::move(config)) {
  const auto key_type = key_type_for(config_.algorithm);
  if (key_type) {
    check_keys(config_, *key_type);
  } else {
    if (hmac_digest_for(config_.algorithm) == nullptr) {
      throw std::invalid_argument("JWT algorithm is not supported");
    }
    if (config_.secret.empty()) throw std::invalid_argument("JWT secret must not be empty");
    // keys.empty() is how the rest of the codec tells HMAC from public-key signing.
    if (!config_.keys.empty()) {
      throw std::invalid_argument("JWT signing keys are for EdDSA and ES256, not HMAC");
    }
    // HMAC() takes the key length as an int.
    if (config_.secret.size() > static_cast<std::size_t>(INT_MAX)) {
      throw std::invalid_argument("JWT secret is too long");
    }
  }
  if (config_.issuer.empty() || !kit::json::is_valid_utf8(config_.issuer)) {
    throw std::invalid_argument("JWT issuer must be a non-empty UTF-8 string");
  }
  if (config_.audience.empty() || !kit::json::is_valid_utf8(config_.audience)) {
    throw std::invalid_argument("JWT audience must be a non-empty UTF-8 string");
  }
  // The upper bounds keep iat + lifetime and now -/+ leeway far from int64 overflow.
  if (config_.lifetime <= std::chrono::seconds::zero() || config_.lifetime > kMaxLifetime) {
    throw std::invalid_argument("JWT lifetime must be positive and at most 10 years");
  }
  if (config_.leeway < std::chrono::seconds::zero() || config_.leeway > kMaxLeeway) {
    throw std::invalid_argument("JWT leeway must be between 0 and 1 day");
  }
  kit::json::Writer header;
  header.begin_object()
      .field("alg", to_string(config_.algorithm))
      .field("typ", std::string_view("JWT"));
  if (key_type) header.field("kid", config_.keys.front()->kid());
  header.end_object();
  encoded_header_ = base64url_encode(header.str());

  kit::json::Writer jwks;
  jwks.begin_object().key("keys").begin_array();
  if (key_type) {
    for (const auto& key : config_.keys) key->write_public_jwk(jwks, to_string(config_.algorithm));
  }
  jwks.end_array().end_object();
  jwks_ = std::move(jwks).str();
  if (config_.remember_verified) verified_ = std::make_unique<VerifiedTokens>();
}

JwtCodec::JwtCodec(JwtCodec&&) noexcept = default;
JwtCodec& JwtCodec::operator=(JwtCodec&&) noexcept = default;
JwtCodec::~JwtCodec() = default;

std::string JwtCodec::jwks() const {
  return jwks_;
}

std::string JwtCodec::hmac(std::string_view signing_input) const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_size = 0;
  const unsigned char* result = HMAC(hmac_digest_for(config_.algorithm), config_.secret.data(),
                                     static_cast<int>(config_.secret.size()),
                                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                                     signing_input.size(), mac.data(), &mac_size);
  // Only an internal OpenSSL failure (e.g. out of memory) gets here: not the client's fault.
  if (result == nullptr) throw std::runtime_error("HMAC computation failed");
  return std::string(reinterpret_cast<const char*>(mac.data()), mac_size);
}

IssuedToken JwtCodec::issue(std::string_view subject, std::chrono::system_clock::time_point now,
                            std::string_view session) const {
  // The writer would replace invalid UTF-8, and the token would then name another subject.
  if (subject.empty() || !kit::json::is_valid_utf8(subject)) {
    throw std::invalid_argument("JWT subject must be a non-empty UTF-8 string");
  }
  if (!kit::json::is_valid_utf8(session)) {
    throw std::invalid_argument("JWT session id must be a UTF-8 string");
  }
  const std::int64_t iat = to_unix_seconds(now);
  const std::int64_t exp = iat + config_.lifetime.count();
  std::string jti = random_jti();

  kit::json::Writer payload;
  payload.begin_object()
      .field("sub", subject)
      .field("iat", iat)
      .field("exp", exp)
      .field("iss", config_.issuer)
      .field("aud", config_.audience)
      .field("jti", jti);
  if (!session.empty()) payload.field("sid", session);
  payload.end_object();

  std::string token = encoded_header_;
  token += '.';
  token += base64url_encode(payload.str());
  const std::string signature =
      config_.keys.empty() ? hmac(token) : config_.keys.front()->sign(token);
  token += '.';
  token += base64url_encode(signature);
  return IssuedToken{std::move(token), std::move(jti), config_.lifetime};
}

std::optional<TokenError> JwtCodec::check_signature(std::optional<std::string_view> kid,
                                                    std::string_view signing_input,
                                                    std::string_view signature) const {
  if (config_.keys.empty()) {
    // HS*: the header's kid (if any) is irrelevant; there is one secret.
    if (constant_time_equal(signature, hmac(signing_input))) return std::nullopt;
    return TokenError::bad_signature;
  }
  // Every token we issue names its key; without a kid a verifier would have to try each key.
  if (!kid) return TokenError::unknown_key;
  for (const auto& key : config_.keys) {
    if (key->kid() != *kid) continue;
    if (key->verify(signing_input, signature)) return std::nullopt;
    return TokenError::bad_signature;
  }
  return TokenError::unknown_key;
}

TokenVerification JwtCodec::verify(std::string_view token,
                                   std::chrono::system_clock::time_point now) const {
  if (token.size() > kMaxTokenBytes) return TokenError::too_large;
  // A remembered token held its signature and claims before; only the times can have changed
  // (and clocks can step back), so they are checked on every use.
  if (auto claims = verified_ ? verified_->find(token) : std::nullopt) {
    if (const auto error = time_error(*claims, now, config_.leeway)) return *error;
    return std::move(*claims);
  }
  TokenVerification result = verify_signed(token);
  if (!result) return result;
  if (const auto error = time_error(result.claims(), now, config_.leeway)) return *error;
  if (verified_) verified_->remember(token, result.claims());
  return result;
}

TokenVerification JwtCodec::verify_signed(std::string_view token) const {
  // Exactly three parts: header.payload.signature (a JWE has five, anything else is garbage).
  const std::size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return TokenError::malformed;
  const std::size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos) return TokenError::malformed;
  if (token.find('.', second_dot + 1) != std::string_view::npos) return TokenError::malformed;
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);

  // Header: only to check that it names OUR algorithm; the token never chooses the algorithm.
  const auto header_json = base64url_decode(header_part);
  if (!header_json) return TokenError::malformed;
  rapidjson::Document header;
  if (!parse_strict_json(*header_json, header, kJsonLimits) || !header.IsObject()) {
    return TokenError::malformed;
  }
  const auto alg = string_member(header, "alg");
  if (!alg || *alg != to_string(config_.algorithm)) return TokenError::bad_algorithm;
  if (const auto typ = header.FindMember("typ"); typ != header.MemberEnd()) {
    if (!typ->value.IsString() ||
        std::string_view(typ->value.GetString(), typ->value.GetStringLength()) != "JWT") {
      return TokenError::bad_algorithm;
    }
  }
  // RFC 7515 §4.1.11: extensions listed in "crit" must be understood; we understand none.
  if (header.HasMember("crit")) return TokenError::malformed;

  // Signature over the exact bytes received, before the payload is even decoded.
  const auto signature = base64url_decode(signature_part);
  if (!signature) return TokenError::malformed;
  if (const auto error =
          check_signature(string_member(header, "kid"), token.substr(0, second_dot), *signature)) {
    return *error;
  }

  const auto payload_json = base64url_decode(payload_part);
  if (!payload_json) return TokenError::malformed;
  rapidjson::Document payload;
  if (!parse_strict_json(*payload_json, payload, kJsonLimits) || !payload.IsObject()) {
    return TokenError::malformed;
  }

  TokenClaims claims;
  std::string_view sub;
  std::string_view iss;
  std::string_view jti;
  const Lookup lookups[] = {
      find_string(payload, "sub", sub),       find_int64(payload, "iat", claims.iat),
      find_int64(payload, "exp", claims.exp), find_string(payload, "iss", iss),
      find_string(payload, "jti", jti),
  };
  for (const Lookup lookup : lookups) {
    if (lookup == Lookup::missing) return TokenError::missing_claim;
  }
  for (const Lookup lookup : lookups) {
    if (lookup == Lookup::wrong_type) return TokenError::malformed;
  }
  const auto aud = payload.FindMember("aud");
  if (aud == payload.MemberEnd()) return TokenError::missing_claim;
  if (sub.empty() || jti.empty()) return TokenError::malformed;

  if (iss != config_.issuer) return TokenError::bad_issuer;
  if (const auto error = check_audience(aud->value, config_.audience)) return *error;

  if (const auto nbf = payload.FindMember("nbf"); nbf != payload.MemberEnd()) {
    if (!nbf->value.IsInt64()) return TokenError::malformed;
    claims.nbf = nbf->value.GetInt64();
  }
  if (const auto sid = payload.FindMember("sid"); sid != payload.MemberEnd()) {
    if (!sid->value.IsString()) return TokenError::malformed;
    claims.sid.assign(sid->value.GetString(), sid->value.GetStringLength());
  }

  claims.sub = sub;
  claims.iss = iss;
  claims.aud = config_.audience;
  claims.jti = jti;
  return claims;
}

}  // namespace kit::security
