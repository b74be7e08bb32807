// Fuzzes JWT verification (kit/security/jwt) with fixed keys. The first byte picks a mode
// (byte % 3) and an algorithm ((byte / 3) % 3: HS256, EdDSA, ES256):
//   0: the rest is a bearer token as a client would send it;
//   1: the rest is "<header JSON>\n<payload JSON>"; the harness encodes and signs it with the
//      key (as a key holder would), so the fuzzer reaches the claim checks behind the
//      signature. For EdDSA/ES256, "$KID" in the header becomes the key's kid;
//   2: the rest is a subject: issue a token for it and verify it back.
// Properties: an accepted token carries our issuer and audience, a subject, a jti and times
// within the leeway; a token with any other signature is refused; issue → verify round-trips.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "kit/security/base64url.hpp"
#include "kit/security/jwt.hpp"
#include "kit/security/signing_key.hpp"

namespace {

using kit::security::JwtAlgorithm;
using kit::security::JwtCodec;
using kit::security::SigningKey;
using std::chrono::seconds;

// Fixed keys, so runs reproduce: RFC 8037 A.1 (Ed25519) and a P-256 test key.
constexpr std::string_view kEd25519Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kP256Pem =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIJCU37GikQsAbcxjNjzTYeWbtqg90tt9TyIy+Js6/4ZToAoGCCqGSM49\n"
    "AwEHoUQDQgAEvw/zExcVVNsPq1K8M4bIZGnHkaYBi4JyDaOT4hPHgxh5txO9uPG8\n"
    "FUvQE4Tjz27Vtu+D6dJnjUP0/S2fNdyC9g==\n"
    "-----END EC PRIVATE KEY-----\n";

constexpr std::string_view kSecret = "fuzzing-key-0123456789abcdefghijklmnopqrstuvwxyz";
// A fixed clock keeps runs reproducible: 2023-11-14T22:13:20Z (seed tokens use it).
const auto kNow = std::chrono::system_clock::time_point(seconds(1'700'000'000));

kit::security::JwtConfig config_for(JwtAlgorithm algorithm) {
  kit::security::JwtConfig config{.algorithm = algorithm,
                                  .issuer = "user-service",
                                  .audience = "user-service",
                                  .lifetime = seconds(3600),
                                  .leeway = seconds(30)};
  if (algorithm == JwtAlgorithm::HS256) {
    config.secret = std::string(kSecret);
  } else {
    const auto pem = algorithm == JwtAlgorithm::EdDSA ? kEd25519Pem : kP256Pem;
    config.keys = {std::make_shared<const SigningKey>(SigningKey::from_pem(pem))};
  }
  return config;
}

// The codec under test for this input; set by LLVMFuzzerTestOneInput.
const JwtCodec* current = nullptr;

const JwtCodec& codec() {
  return *current;
}

const JwtCodec& codec_for(std::uint8_t selector) {
  static const JwtCodec hs256(config_for(JwtAlgorithm::HS256));
  static const JwtCodec eddsa(config_for(JwtAlgorithm::EdDSA));
  static const JwtCodec es256(config_for(JwtAlgorithm::ES256));
  switch ((selector / 3) % 3) {
    case 1:
      return eddsa;
    case 2:
      return es256;
    default:
      return hs256;
  }
}

std::string hmac_sha256(std::string_view input);

// What a key holder would produce for `signing_input`, with the codec's algorithm.
std::string sign(std::string_view signing_input) {
  const auto& keys = codec().config().keys;
  return keys.empty() ? hmac_sha256(signing_input) : keys.front()->sign(signing_input);
}

std::string with_kid(std::string_view header) {
  std::string out(header);
  const auto& keys = codec().config().keys;
  if (const auto at = out.find("$KID"); at != std::string::npos && !keys.empty()) {
    out.replace(at, 4, keys.front()->kid());
  }
  return out;
}

std::string hmac_sha256(std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  FUZZ_CHECK(HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
                  reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(),
                  &size) != nullptr);
  return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

void check_accepted(const kit::security::TokenVerification& result) {
  if (!result) return;
  const auto& claims = result.claims();
  const auto now = seconds(1'700'000'000).count();
  FUZZ_CHECK(!claims.sub.empty() && !claims.jti.empty());
  FUZZ_CHECK(claims.iss == "user-service" && claims.aud == "user-service");
  FUZZ_CHECK(claims.exp + 30 > now);
  FUZZ_CHECK(claims.iat <= now + 30);
}

// The same token with a different last signature character must never be accepted.
void check_tampered_signature_refused(std::string token) {
  if (token.empty()) return;
  token.back() = token.back() == 'A' ? 'B' : 'A';
  FUZZ_CHECK(!codec().verify(token, kNow));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  current = &codec_for(data[0]);
  switch (data[0] % 3) {
    case 0: {
      check_accepted(codec().verify(input, kNow));
      break;
    }
    case 1: {
      const auto newline = input.find('\n');
      if (newline == std::string_view::npos) return 0;
      std::string token = kit::security::base64url_encode(with_kid(input.substr(0, newline))) +
                          "." + kit::security::base64url_encode(input.substr(newline + 1));
      token += "." + kit::security::base64url_encode(sign(token));
      const auto result = codec().verify(token, kNow);
      check_accepted(result);
      if (result) check_tampered_signature_refused(token);
      break;
    }
    default: {
      std::string token;
      try {
        token = codec().issue(input, kNow).token;
      } catch (const std::invalid_argument&) {
        return 0;  // empty or not UTF-8: refused by contract
      }
      const auto result = codec().verify(token, kNow);
      // A subject too big for a token is refused as too_large; anything else must verify.
      if (token.size() > JwtCodec::kMaxTokenBytes) {
        FUZZ_CHECK(!result && result.error() == kit::security::TokenError::too_large);
        return 0;
      }
      FUZZ_CHECK(result && result.claims().sub == input);
      check_accepted(result);
      check_tampered_signature_refused(token);
    }
  }
  return 0;
}
