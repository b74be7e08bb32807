#pragma once
// JSON Web Tokens (RFC 7519) signed with HMAC (HS256, HS384, HS512) or a public-key
// signature (EdDSA with Ed25519, ES256 with P-256; see signing_key.hpp).
//
// The codec is pinned to ONE configured algorithm: a token whose header names any other `alg`
// ("none", another HMAC size, RS256...) is rejected before its signature is looked at, which
// closes the classic algorithm-confusion attacks. It checks the signature, iss, aud, exp, iat
// and nbf; it knows nothing about users, so "does `sub` still exist" is the caller's job.
//
// verify() does not throw for a bad token: rejections are expected traffic (expired tokens,
// scanners), so they come back as a TokenVerification holding a TokenError that the HTTP layer
// maps to 401 and the logs can record as a reason.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "kit/security/signing_key.hpp"
#include "kit/util/enum_names.hpp"

namespace kit::security {

class VerifiedTokens;

enum class JwtAlgorithm { HS256, HS384, HS512, EdDSA, ES256 };
inline constexpr util::EnumNames<JwtAlgorithm, 5> kJwtAlgorithmNames{
    {"HS256", "HS384", "HS512", "EdDSA", "ES256"}};

// The JOSE name: "HS256", "HS384", "HS512", "EdDSA", "ES256".
std::string_view to_string(JwtAlgorithm algorithm) noexcept;

// The key type a public-key algorithm signs with; nullopt for the HMAC algorithms.
std::optional<KeyType> key_type_for(JwtAlgorithm algorithm) noexcept;

using SharedSigningKey = std::shared_ptr<const SigningKey>;

struct JwtConfig {
  std::string secret = {};  // HS*: the HMAC key, not empty (settings require >= 32 bytes)
  JwtAlgorithm algorithm = JwtAlgorithm::HS256;
  // EdDSA/ES256: the first signs; every one verifies (a token names its key with `kid`) and is
  // published in the JWKS. Each must be of the algorithm's key type; their kids are distinct.
  std::vector<SharedSigningKey> keys = {};
  std::string issuer;    // written to and required in `iss`
  std::string audience;  // written to and required in `aud`
  std::chrono::seconds lifetime{3600};
  std::chrono::seconds leeway{30};  // clock skew tolerated for exp, iat and nbf
  // Remember verified tokens (verified_tokens.hpp). Off only to measure the full verification.
  bool remember_verified = true;
};

struct IssuedToken {
  std::string token;
  std::string jti;
  std::chrono::seconds expires_in;
};

struct TokenClaims {
  std::string sub;
  std::int64_t iat = 0;
  std::int64_t exp = 0;
  std::string iss;
  std::string aud;  // the configured audience (it matched, possibly as one entry of an array)
  std::string jti;
  std::int64_t nbf = 0;  // 0 when the token has none
  std::string sid = {};  // the session the token belongs to; empty when the token has none
};

enum class TokenError {
  too_large,      // longer than JwtCodec::kMaxTokenBytes; nothing else was looked at
  malformed,      // not three base64url parts, not JSON objects, a claim of the wrong type...
  bad_algorithm,  // header `alg` is not the configured algorithm, or `typ` is not "JWT"
  unknown_key,    // public-key algorithms: the header's `kid` names none of our keys
  bad_signature,  // the MAC over the received header.payload does not match
  missing_claim,  // one of sub, iat, exp, iss, aud, jti is absent
  bad_issuer,
  bad_audience,
  expired,        // now >= exp + leeway
  not_yet_valid,  // iat (or nbf) later than now + leeway
};

// A stable snake_case name for logs and metrics, e.g. "bad_signature".
std::string_view to_string(TokenError error) noexcept;

// The outcome of JwtCodec::verify(): the claims, or why the token was refused.
class TokenVerification {
 public:
  TokenVerification(TokenClaims claims) : value_(std::move(claims)) {}  // NOLINT: implicit
  TokenVerification(TokenError error) : value_(error) {}                // NOLINT: implicit

  bool ok() const noexcept { return std::holds_alternative<TokenClaims>(value_); }
  explicit operator bool() const noexcept { return ok(); }
  // Precondition ok(); throws std::bad_variant_access otherwise.
  const TokenClaims& claims() const& { return std::get<TokenClaims>(value_); }
  TokenClaims claims() && { return std::get<TokenClaims>(std::move(value_)); }
  // Precondition !ok(); throws std::bad_variant_access otherwise.
  TokenError error() const { return std::get<TokenError>(value_); }

 private:
  std::variant<TokenClaims, TokenError> value_;
};

class JwtCodec {
 public:
  // Bigger tokens are refused before any decoding or MAC work (ours are ~300 bytes).
  static constexpr std::size_t kMaxTokenBytes = 8 * 1024;

  // Throws std::invalid_argument for an empty secret (HS*), no keys or a key of the wrong type
  // or a repeated kid (EdDSA/ES256), an empty issuer or audience, a lifetime outside
  // (0, 10 years] or a leeway outside [0, 1 day]. The message never contains the secret.
  explicit JwtCodec(JwtConfig config);
  JwtCodec(JwtCodec&&) noexcept;
  JwtCodec& operator=(JwtCodec&&) noexcept;
  ~JwtCodec();

  // Signs a token for `subject` with claims, in this order: sub, iat, exp, iss, aud, jti, and
  // `sid` (the session id, as OpenID Connect names it) when `session` is not empty.
  // The header is {"alg","typ":"JWT"} plus, for public-key algorithms, the signing key's kid.
  // iat is `now` rounded down to the second; jti is 16 random bytes, hex encoded.
  // Throws std::invalid_argument for an empty subject, or a subject or session that is not
  // valid UTF-8.
  IssuedToken issue(std::string_view subject, std::chrono::system_clock::time_point now,
                    std::string_view session = {}) const;

  // Checks `token` (without any "Bearer " prefix) as of `now`. Thread-safe; never throws for
  // bad input (only std::bad_alloc can escape). The codec remembers the tokens that verified
  // (verified_tokens.hpp): the same token again costs a lookup and the expiry check.
  TokenVerification verify(std::string_view token, std::chrono::system_clock::time_point now) const;

  const JwtConfig& config() const noexcept { return config_; }

  // The JSON Web Key Set of the verification keys (RFC 7517 §5): {"keys":[...]}, public parts
  // only, in configuration order; {"keys":[]} for the HMAC algorithms, whose key is secret.
  std::string jwks() const;

 private:
  // Everything but the times: structure, algorithm, signature, claims (verify() checks times).
  TokenVerification verify_signed(std::string_view token) const;
  std::string hmac(std::string_view signing_input) const;
  // Checks the signature with the key the header names (kid) or the HMAC secret; nullopt = valid.
  std::optional<TokenError> check_signature(std::optional<std::string_view> kid,
                                            std::string_view signing_input,
                                            std::string_view signature) const;

  JwtConfig config_;
  std::string encoded_header_;  // base64url of the fixed header we issue
  std::string jwks_;
  std::unique_ptr<VerifiedTokens> verified_;  // null when !remember_verified
};

}  // namespace kit::security
