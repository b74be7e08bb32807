#include "kit/security/jwt.hpp"

#include <array>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "kit/security/base64url.hpp"
#include "kit/security/verified_tokens.hpp"

namespace {

using kit::security::base64url_decode;
using kit::security::base64url_encode;
using kit::security::JwtAlgorithm;
using kit::security::JwtCodec;
using kit::security::JwtConfig;
using kit::security::TokenError;
using kit::security::TokenVerification;
using std::chrono::seconds;

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef-test-secret";
constexpr std::int64_t kIat = 1700000000;
constexpr std::int64_t kExp = kIat + 3600;
constexpr std::int64_t kNow = kIat + 100;

std::chrono::system_clock::time_point at(std::int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(seconds(unix_seconds));
}

JwtConfig make_config(JwtAlgorithm algorithm = JwtAlgorithm::HS256) {
  return JwtConfig{.secret = std::string(kSecret),
                   .algorithm = algorithm,
                   .issuer = "user-service",
                   .audience = "user-service",
                   .lifetime = seconds(3600),
                   .leeway = seconds(30)};
}

// The result as text, so a failing expectation says what came back.
std::string outcome(const TokenVerification& result) {
  return result.ok() ? "ok" : std::string(kit::security::to_string(result.error()));
}

const EVP_MD* digest(JwtAlgorithm algorithm) {
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

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
  return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

// Builds a token from raw header and payload JSON, signed by the test itself: this is how an
// attacker who knows (or guesses) the format would forge one.
std::string forge(std::string_view header_json, std::string_view payload_json,
                  JwtAlgorithm algorithm = JwtAlgorithm::HS256, std::string_view secret = kSecret) {
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  return input + "." + base64url_encode(hmac(digest(algorithm), secret, input));
}

constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

using Claims = std::vector<std::pair<std::string, std::string>>;  // name, raw JSON value

Claims default_claims() {
  return {{"sub", R"("user-42")"},       {"iat", std::to_string(kIat)},
          {"exp", std::to_string(kExp)}, {"iss", R"("user-service")"},
          {"aud", R"("user-service")"},  {"jti", R"("00112233445566778899aabbccddeeff")"}};
}

std::string to_json(const Claims& claims) {
  std::string out = "{";
  for (const auto& [name, value] : claims) {
    if (out.size() > 1) out += ',';
    out += '"' + name + "\":" + value;
  }
  return out + "}";
}

std::string payload_with(const std::string& name, const std::string& raw_value) {
  Claims claims = default_claims();
  bool replaced = false;
  for (auto& claim : claims) {
    if (claim.first == name) {
      claim.second = raw_value;
      replaced = true;
    }
  }
  if (!replaced) claims.emplace_back(name, raw_value);
  return to_json(claims);
}

std::string payload_without(const std::string& name) {
  Claims claims = default_claims();
  std::erase_if(claims, [&](const auto& claim) { return claim.first == name; });
  return to_json(claims);
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

// ---- issuing and round trips ----

class JwtRoundTrip : public testing::TestWithParam<JwtAlgorithm> {};

TEST_P(JwtRoundTrip, IssuedTokensVerifyWithTheirClaims) {
  const JwtCodec codec(make_config(GetParam()));
  const auto issued = codec.issue("user-42", at(kIat) + std::chrono::milliseconds(900));
  EXPECT_EQ(issued.expires_in, seconds(3600));

  const auto result = codec.verify(issued.token, at(kNow));
  ASSERT_EQ(outcome(result), "ok");
  const auto& claims = result.claims();
  EXPECT_EQ(claims.sub, "user-42");
  EXPECT_EQ(claims.iat, kIat);  // rounded down to the second
  EXPECT_EQ(claims.exp, kExp);
  EXPECT_EQ(claims.iss, "user-service");
  EXPECT_EQ(claims.aud, "user-service");
  EXPECT_EQ(claims.jti, issued.jti);
}

TEST_P(JwtRoundTrip, SignatureHasTheAlgorithmsMacSize) {
  const JwtCodec codec(make_config(GetParam()));
  const auto parts = split(codec.issue("user-42", at(kIat)).token);
  ASSERT_EQ(parts.size(), 3U);
  const auto signature = base64url_decode(parts[2]);
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->size(), static_cast<std::size_t>(EVP_MD_get_size(digest(GetParam()))));
}

TEST_P(JwtRoundTrip, RejectsATokenSignedWithAnotherSecret) {
  const JwtCodec codec(make_config(GetParam()));
  JwtConfig other = make_config(GetParam());
  other.secret = "another-secret-another-secret-another-secret";
  const auto token = JwtCodec(other).issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_signature");
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwtRoundTrip,
                         testing::Values(JwtAlgorithm::HS256, JwtAlgorithm::HS384,
                                         JwtAlgorithm::HS512),
                         [](const testing::TestParamInfo<JwtAlgorithm>& test_param) {
                           return std::string(kit::security::to_string(test_param.param));
                         });

TEST(Jwt, IssuesTheFixedHeaderAndClaimsInOrder) {
  const JwtCodec codec(make_config());
  const auto issued = codec.issue("user-42", at(kIat));
  const auto parts = split(issued.token);
  ASSERT_EQ(parts.size(), 3U);
  EXPECT_EQ(base64url_decode(parts[0]), std::string(kHs256Header));
  EXPECT_EQ(base64url_decode(parts[1]),
            R"({"sub":"user-42","iat":1700000000,"exp":1700003600,"iss":"user-service",)"
            R"("aud":"user-service","jti":")" +
                issued.jti + R"("})");
}

TEST(Jwt, ASessionIsTheLastClaimAndVerifiesAsSid) {
  const JwtCodec codec(make_config());
  const auto issued = codec.issue("user-42", at(kIat), "session-7");
  const auto parts = split(issued.token);
  ASSERT_EQ(parts.size(), 3U);
  EXPECT_EQ(base64url_decode(parts[1]),
            R"({"sub":"user-42","iat":1700000000,"exp":1700003600,"iss":"user-service",)"
            R"("aud":"user-service","jti":")" +
                issued.jti + R"(","sid":"session-7"})");
  const auto result = codec.verify(issued.token, at(kNow));
  ASSERT_EQ(outcome(result), "ok");
  EXPECT_EQ(result.claims().sid, "session-7");
  // None without one; a sid that is not a string is malformed.
  EXPECT_EQ(codec.verify(codec.issue("user-42", at(kIat)).token, at(kNow)).claims().sid, "");
  EXPECT_EQ(outcome(codec.verify(forge(kHs256Header, payload_with("sid", "7")), at(kNow))),
            "malformed");
  EXPECT_THROW(codec.issue("user-42", at(kIat), "\xFF"), std::invalid_argument);
}

TEST(Jwt, JtiIsSixteenRandomBytesInHex) {
  const JwtCodec codec(make_config());
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto jti = codec.issue("user-42", at(kIat)).jti;
    EXPECT_EQ(jti.size(), 32U);
    EXPECT_EQ(jti.find_first_not_of("0123456789abcdef"), std::string::npos) << jti;
    seen.insert(jti);
  }
  EXPECT_EQ(seen.size(), 100U);
}

TEST(Jwt, EscapesTheSubjectAndRefusesInvalidOnes) {
  const JwtCodec codec(make_config());
  const std::string subject = "we\"ird\\sub\n\xC3\xA9";
  const auto result = codec.verify(codec.issue(subject, at(kIat)).token, at(kNow));
  ASSERT_EQ(outcome(result), "ok");
  EXPECT_EQ(result.claims().sub, subject);
  EXPECT_THROW(codec.issue("", at(kIat)), std::invalid_argument);
  EXPECT_THROW(codec.issue("bad\xFF", at(kIat)), std::invalid_argument);
}

TEST(Jwt, ConstructorRefusesUnusableConfigurations) {
  auto config = make_config();
  config.secret.clear();
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
  config = make_config();
  config.issuer.clear();
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
  config = make_config();
  config.audience.clear();
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
  config = make_config();
  config.lifetime = seconds(0);
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
  config = make_config();
  config.lifetime = seconds::max();
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
  config = make_config();
  config.leeway = seconds(-1);
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
  config = make_config();
  config.leeway = seconds::max();
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
}

// ---- known vectors ----

// Tokens computed outside this code base (Python hmac/hashlib) for kSecret and the default claims.
TEST(Jwt, VerifiesIndependentlyComputedVectors) {
  const std::pair<JwtAlgorithm, const char*> vectors[] = {
      {JwtAlgorithm::HS256,
       "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
       "eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImlzcyI6InVzZXItc2Vy"
       "dmljZSIsImF1ZCI6InVzZXItc2VydmljZSIsImp0aSI6IjAwMTEyMjMzNDQ1NTY2Nzc4ODk5YWFiYmNjZGRlZWZm"
       "In0.EvNL40KIrvwf3ak3Hu6GFd1ndfPmtorduyNwT1ZVRD8"},
      {JwtAlgorithm::HS384,
       "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9."
       "eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImlzcyI6InVzZXItc2Vy"
       "dmljZSIsImF1ZCI6InVzZXItc2VydmljZSIsImp0aSI6IjAwMTEyMjMzNDQ1NTY2Nzc4ODk5YWFiYmNjZGRlZWZm"
       "In0.uD13uDgEPESIGi4p2yllosrXB9kYXbN-Y7rkFf37CUd7ZSbK-l_zEpO9dAWavGvx"},
      {JwtAlgorithm::HS512,
       "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."
       "eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImlzcyI6InVzZXItc2Vy"
       "dmljZSIsImF1ZCI6InVzZXItc2VydmljZSIsImp0aSI6IjAwMTEyMjMzNDQ1NTY2Nzc4ODk5YWFiYmNjZGRlZWZm"
       "In0.numizGHIPe22dnrQFLl_phapxFjk5d_Ss_wuYCFzvsztN1ZjCe8TS5GANRAoGsgfnbNe7_"
       "n6xcuaut2q1ENDHQ"},
  };
  for (const auto& [algorithm, token] : vectors) {
    const JwtCodec codec(make_config(algorithm));
    const auto result = codec.verify(token, at(kNow));
    ASSERT_EQ(outcome(result), "ok") << kit::security::to_string(algorithm);
    EXPECT_EQ(result.claims().sub, "user-42");
    EXPECT_EQ(result.claims().jti, "00112233445566778899aabbccddeeff");
  }
}

// RFC 7515 appendix A.1: an HS256 JWS with a 64-byte key. Its signature must check out; the
// token is then refused only because it lacks our required claims (sub, aud, jti...).
TEST(Jwt, Rfc7515AppendixA1SignatureVerifies) {
  auto config = make_config();
  config.secret = *base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  const JwtCodec codec(config);
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
      "cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  EXPECT_EQ(outcome(codec.verify(token, at(1300819380 - 100))), "missing_claim");

  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'E' ? 'F' : 'E';
  EXPECT_EQ(outcome(codec.verify(tampered, at(1300819380 - 100))), "bad_signature");
}

// ---- algorithm pinning ----

TEST(Jwt, RejectsAlgNoneWithAnEmptySignature) {
  const JwtCodec codec(make_config());
  const std::string payload = base64url_encode(to_json(default_claims()));
  for (const char* header : {R"({"alg":"none","typ":"JWT"})", R"({"alg":"None"})",
                             R"({"alg":"NONE"})", R"({"alg":"nOnE"})"}) {
    const std::string token = base64url_encode(header) + "." + payload + ".";
    EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_algorithm") << header;
  }
}

TEST(Jwt, RejectsAlgNoneEvenWithAValidHs256Signature) {
  const JwtCodec codec(make_config());
  const auto token = forge(R"({"alg":"none","typ":"JWT"})", to_json(default_claims()));
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_algorithm");
}

// The token is genuinely signed with our secret, but with HS512: the token's `alg` must never
// select the algorithm.
TEST(Jwt, RejectsAnotherHmacAlgorithmSignedWithTheSameSecret) {
  const JwtCodec hs256(make_config(JwtAlgorithm::HS256));
  const auto hs512_token =
      forge(R"({"alg":"HS512","typ":"JWT"})", to_json(default_claims()), JwtAlgorithm::HS512);
  ASSERT_EQ(outcome(JwtCodec(make_config(JwtAlgorithm::HS512)).verify(hs512_token, at(kNow))),
            "ok");
  EXPECT_EQ(outcome(hs256.verify(hs512_token, at(kNow))), "bad_algorithm");

  const JwtCodec hs512(make_config(JwtAlgorithm::HS512));
  const auto hs256_token = hs256.issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(hs512.verify(hs256_token, at(kNow))), "bad_algorithm");
}

// An HS256 signature under a header that claims HS512 is still refused for the header alone.
TEST(Jwt, RejectsAMismatchedAlgHeaderWhateverTheSignature) {
  const JwtCodec codec(make_config());
  const auto token =
      forge(R"({"alg":"HS512","typ":"JWT"})", to_json(default_claims()), JwtAlgorithm::HS256);
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_algorithm");
}

TEST(Jwt, RejectsOtherOrMissingAlgValues) {
  const JwtCodec codec(make_config());
  for (const char* header :
       {R"({"alg":"RS256","typ":"JWT"})", R"({"alg":"ES256"})", R"({"alg":"hs256"})",
        R"({"alg":"HS256 "})", R"({"alg":""})", R"({"typ":"JWT"})", R"({"alg":256})",
        R"({"alg":null})", R"({"alg":["HS256"]})", "{\"alg\":\"HS256\\u0000\"}"}) {
    const auto token = forge(header, to_json(default_claims()));
    EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_algorithm") << header;
  }
}

TEST(Jwt, TypMustBeJwtWhenPresent) {
  const JwtCodec codec(make_config());
  const auto payload = to_json(default_claims());
  EXPECT_EQ(outcome(codec.verify(forge(R"({"alg":"HS256"})", payload), at(kNow))), "ok");
  for (const char* header : {R"({"alg":"HS256","typ":"JWS"})", R"({"alg":"HS256","typ":1})",
                             R"({"alg":"HS256","typ":"JWT+x"})"}) {
    EXPECT_EQ(outcome(codec.verify(forge(header, payload), at(kNow))), "bad_algorithm") << header;
  }
}

TEST(Jwt, RejectsCriticalHeaderExtensions) {
  const JwtCodec codec(make_config());
  const auto token =
      forge(R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", to_json(default_claims()));
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "malformed");
}

// ---- signature integrity ----

TEST(Jwt, AnyChangedCharacterIsRejected) {
  const JwtCodec codec(make_config());
  const std::string token = codec.issue("user-42", at(kIat)).token;
  ASSERT_TRUE(codec.verify(token, at(kNow)).ok());
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (const char replacement : {'A', 'g', '-', '_', '.', '='}) {
      if (token[i] == replacement) continue;
      std::string changed = token;
      changed[i] = replacement;
      EXPECT_FALSE(codec.verify(changed, at(kNow)).ok())
          << "position " << i << " -> " << replacement;
    }
  }
}

// Every single-bit change of the decoded payload must be caught by the MAC.
TEST(Jwt, AnyFlippedPayloadBitFailsTheSignature) {
  const JwtCodec codec(make_config());
  const auto parts = split(codec.issue("user-42", at(kIat)).token);
  const std::string payload = *base64url_decode(parts[1]);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = payload;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      const std::string token = parts[0] + "." + base64url_encode(flipped) + "." + parts[2];
      EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_signature") << i << ":" << bit;
    }
  }
}

TEST(Jwt, SignatureCoversTheExactReceivedHeaderBytes) {
  const JwtCodec codec(make_config());
  const auto parts = split(codec.issue("user-42", at(kIat)).token);
  // The same header JSON, serialized differently, must not reuse the original signature.
  const std::string token =
      base64url_encode(R"({"alg": "HS256", "typ": "JWT"})") + "." + parts[1] + "." + parts[2];
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_signature");
}

TEST(Jwt, RejectsTruncatedOrEmptySignatures) {
  const JwtCodec codec(make_config());
  const auto parts = split(codec.issue("user-42", at(kIat)).token);
  const std::string input = parts[0] + "." + parts[1] + ".";
  EXPECT_EQ(outcome(codec.verify(input, at(kNow))), "bad_signature");
  EXPECT_EQ(outcome(codec.verify(input + parts[2].substr(0, 40), at(kNow))), "bad_signature");
  EXPECT_EQ(outcome(codec.verify(input + parts[2] + "AAAA", at(kNow))), "bad_signature");
}

// ---- time claims ----

TEST(Jwt, ExpiryHonoursTheLeeway) {
  const JwtCodec codec(make_config());  // leeway 30 s
  const auto token = codec.issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(codec.verify(token, at(kExp - 1))), "ok");
  EXPECT_EQ(outcome(codec.verify(token, at(kExp))), "ok");
  EXPECT_EQ(outcome(codec.verify(token, at(kExp + 29))), "ok");
  EXPECT_EQ(outcome(codec.verify(token, at(kExp + 30))), "expired");
  EXPECT_EQ(outcome(codec.verify(token, at(kExp + 100000))), "expired");
}

TEST(Jwt, ZeroLeewayExpiresAtExp) {
  auto config = make_config();
  config.leeway = seconds(0);
  const JwtCodec codec(config);
  const auto token = codec.issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(codec.verify(token, at(kExp - 1))), "ok");
  EXPECT_EQ(outcome(codec.verify(token, at(kExp))), "expired");
}

TEST(Jwt, IssuedAtInTheFutureBeyondTheLeewayIsRejected) {
  const JwtCodec codec(make_config());
  const auto token = codec.issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(codec.verify(token, at(kIat - 30))), "ok");
  EXPECT_EQ(outcome(codec.verify(token, at(kIat - 31))), "not_yet_valid");
}

TEST(Jwt, NotBeforeIsHonouredWhenPresent) {
  const JwtCodec codec(make_config());
  const auto future = forge(kHs256Header, payload_with("nbf", std::to_string(kNow + 31)));
  EXPECT_EQ(outcome(codec.verify(future, at(kNow))), "not_yet_valid");
  const auto within = forge(kHs256Header, payload_with("nbf", std::to_string(kNow + 30)));
  EXPECT_EQ(outcome(codec.verify(within, at(kNow))), "ok");
  const auto bad_type = forge(kHs256Header, payload_with("nbf", "\"soon\""));
  EXPECT_EQ(outcome(codec.verify(bad_type, at(kNow))), "malformed");
}

TEST(Jwt, TimeClaimsMustBeInt64Integers) {
  const JwtCodec codec(make_config());
  for (const char* claim : {"exp", "iat"}) {
    for (const char* value :
         {"1700003600.5", "1.7000036e9", "1700003600.0", "\"1700003600\"", "true", "null",
          "[1700003600]", "9223372036854775808", "18446744073709551616", "1e400"}) {
      const auto token = forge(kHs256Header, payload_with(claim, value));
      const auto result = codec.verify(token, at(kNow));
      EXPECT_EQ(outcome(result), "malformed") << claim << "=" << value;
    }
  }
}

// Extreme but integral values must not overflow the arithmetic into a "valid" verdict.
TEST(Jwt, ExtremeTimeValuesDoNotOverflow) {
  const JwtCodec codec(make_config());
  const auto min_exp = forge(kHs256Header, payload_with("exp", "-9223372036854775808"));
  EXPECT_EQ(outcome(codec.verify(min_exp, at(kNow))), "expired");
  const auto max_iat = forge(kHs256Header, payload_with("iat", "9223372036854775807"));
  EXPECT_EQ(outcome(codec.verify(max_iat, at(kNow))), "not_yet_valid");
  const auto max_exp = forge(kHs256Header, payload_with("exp", "9223372036854775807"));
  EXPECT_EQ(outcome(codec.verify(max_exp, at(kNow))), "ok");
}

// ---- issuer, audience and required claims ----

TEST(Jwt, RejectsAnotherIssuer) {
  const JwtCodec codec(make_config());
  EXPECT_EQ(outcome(codec.verify(forge(kHs256Header, payload_with("iss", R"("evil")")), at(kNow))),
            "bad_issuer");
  EXPECT_EQ(outcome(codec.verify(forge(kHs256Header, payload_with("iss", R"("user-service ")")),
                                 at(kNow))),
            "bad_issuer");
  EXPECT_EQ(outcome(codec.verify(forge(kHs256Header, payload_with("iss", "1")), at(kNow))),
            "malformed");

  auto other = make_config();
  other.issuer = "other-service";
  const auto token = JwtCodec(other).issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_issuer");
}

TEST(Jwt, RejectsAnotherAudience) {
  const JwtCodec codec(make_config());
  EXPECT_EQ(outcome(codec.verify(forge(kHs256Header, payload_with("aud", R"("other")")), at(kNow))),
            "bad_audience");
  auto other = make_config();
  other.audience = "other-service";
  const auto token = JwtCodec(other).issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "bad_audience");
}

TEST(Jwt, AcceptsAnAudienceArrayThatContainsOurs) {
  const JwtCodec codec(make_config());
  const auto token = forge(kHs256Header, payload_with("aud", R"(["a","user-service","b"])"));
  const auto result = codec.verify(token, at(kNow));
  ASSERT_EQ(outcome(result), "ok");
  EXPECT_EQ(result.claims().aud, "user-service");

  const auto without = forge(kHs256Header, payload_with("aud", R"(["a","b"])"));
  EXPECT_EQ(outcome(codec.verify(without, at(kNow))), "bad_audience");
  const auto empty = forge(kHs256Header, payload_with("aud", "[]"));
  EXPECT_EQ(outcome(codec.verify(empty, at(kNow))), "bad_audience");
  const auto mixed = forge(kHs256Header, payload_with("aud", R"(["user-service",1])"));
  EXPECT_EQ(outcome(codec.verify(mixed, at(kNow))), "malformed");
  const auto number = forge(kHs256Header, payload_with("aud", "1"));
  EXPECT_EQ(outcome(codec.verify(number, at(kNow))), "malformed");
}

TEST(Jwt, EveryRequiredClaimMustBePresent) {
  const JwtCodec codec(make_config());
  for (const char* claim : {"sub", "iat", "exp", "iss", "aud", "jti"}) {
    const auto token = forge(kHs256Header, payload_without(claim));
    EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "missing_claim") << claim;
  }
}

TEST(Jwt, StringClaimsMustBeNonEmptyStrings) {
  const JwtCodec codec(make_config());
  for (const auto& [claim, value] : std::vector<std::pair<std::string, std::string>>{
           {"sub", "42"}, {"sub", R"("")"}, {"sub", "null"}, {"jti", R"("")"}, {"jti", "7"}}) {
    const auto token = forge(kHs256Header, payload_with(claim, value));
    EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "malformed") << claim << "=" << value;
  }
}

TEST(Jwt, ExtraClaimsAreIgnored) {
  const JwtCodec codec(make_config());
  const auto token = forge(kHs256Header, payload_with("role", R"({"admin":true})"));
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "ok");
}

// ---- size and structure ----

TEST(Jwt, RejectsOversizeTokensBeforeAnyOtherCheck) {
  const JwtCodec codec(make_config());
  EXPECT_EQ(outcome(codec.verify(std::string(JwtCodec::kMaxTokenBytes + 1, 'a'), at(kNow))),
            "too_large");

  // A correctly signed token just over the limit is refused for its size alone, and one just
  // under it is accepted.
  std::string below;
  std::string above;
  for (std::size_t pad = 5800; above.empty(); ++pad) {
    const auto token = forge(kHs256Header, payload_with("pad", '"' + std::string(pad, 'x') + '"'));
    if (token.size() <= JwtCodec::kMaxTokenBytes) {
      below = token;
    } else {
      above = token;
    }
  }
  ASSERT_FALSE(below.empty());
  EXPECT_EQ(outcome(codec.verify(below, at(kNow))), "ok");
  EXPECT_EQ(outcome(codec.verify(above, at(kNow))), "too_large");
}

TEST(Jwt, RejectsGarbageAndWrongStructure) {
  const JwtCodec codec(make_config());
  const std::string valid = codec.issue("user-42", at(kIat)).token;
  const auto parts = split(valid);
  for (const std::string& token : std::vector<std::string>{
           "",
           ".",
           "..",
           "...",
           "abc",
           "a.b",
           "a.b.c",
           "a.b.c.d",
           "Bearer " + valid,
           " " + valid,
           valid + " ",
           valid + ".",
           "." + valid,
           valid + "." + parts[2],
           parts[0] + "." + parts[1],
           parts[0] + ".." + parts[2],
           "." + parts[1] + "." + parts[2],
           parts[0] + "=." + parts[1] + "." + parts[2],
           valid + "=",
           parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2] + "." + parts[2],
           std::string("\0\0\0", 3),
           "\xFF\xFE.\xFF.\xFF"}) {
    EXPECT_FALSE(codec.verify(token, at(kNow)).ok()) << token;
  }
  EXPECT_EQ(outcome(codec.verify("a.b", at(kNow))), "malformed");
  EXPECT_EQ(outcome(codec.verify("a.b.c.d", at(kNow))), "malformed");
  EXPECT_EQ(outcome(codec.verify(valid + ".", at(kNow))), "malformed");
}

TEST(Jwt, HeaderAndPayloadMustBeStrictJsonObjects) {
  const JwtCodec codec(make_config());
  const auto claims = to_json(default_claims());
  for (const std::string& header :
       {std::string(R"(["HS256"])"), std::string(R"("HS256")"), std::string("not json"),
        std::string(R"({"alg":"none","alg":"HS256"})"),  // duplicate key: which one wins?
        std::string(R"({"alg":"HS256",})"), std::string("{\"alg\":\"HS256\",\"x\":\"\xFF\"}")}) {
    EXPECT_EQ(outcome(codec.verify(forge(header, claims), at(kNow))), "malformed") << header;
  }
  for (const std::string& payload :
       {std::string("[]"), std::string("42"), std::string("{"),
        R"({"sub":"admin",)" + claims.substr(1),  // duplicate sub
        payload_with("x", "\"\xC0\xAF\""),
        payload_with("deep", std::string(50, '[') + std::string(50, ']')), claims + " {}"}) {
    EXPECT_EQ(outcome(codec.verify(forge(kHs256Header, payload), at(kNow))), "malformed")
        << payload;
  }
}

// ---- public-key algorithms (EdDSA, ES256) ----

using kit::security::KeyType;
using kit::security::SharedSigningKey;
using kit::security::SigningKey;

SharedSigningKey new_key(KeyType type) {
  return std::make_shared<const SigningKey>(SigningKey::generate(type));
}

JwtConfig public_key_config(JwtAlgorithm algorithm, std::vector<SharedSigningKey> keys) {
  JwtConfig config = make_config(algorithm);
  config.secret.clear();
  config.keys = std::move(keys);
  return config;
}

struct PublicKeyCase {
  JwtAlgorithm algorithm;
  KeyType type;
};

class JwtPublicKey : public testing::TestWithParam<PublicKeyCase> {};

TEST_P(JwtPublicKey, IssuesTokensThatNameTheirKeyAndVerify) {
  const auto key = new_key(GetParam().type);
  const JwtCodec codec(public_key_config(GetParam().algorithm, {key}));
  const auto issued = codec.issue("user-42", at(kIat));
  const auto parts = split(issued.token);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(*base64url_decode(parts[0]),
            R"({"alg":")" + std::string(kit::security::to_string(GetParam().algorithm)) +
                R"(","typ":"JWT","kid":")" + key->kid() + R"("})");
  EXPECT_EQ(base64url_decode(parts[2])->size(), 64u);
  const auto verified = codec.verify(issued.token, at(kNow));
  ASSERT_TRUE(verified.ok()) << outcome(verified);
  EXPECT_EQ(verified.claims().sub, "user-42");
}

TEST_P(JwtPublicKey, EveryListedKeyVerifiesAndOnlyTheFirstSigns) {
  const auto old_key = new_key(GetParam().type);
  const auto new_key_ = new_key(GetParam().type);
  const auto algorithm = GetParam().algorithm;
  const JwtCodec before(public_key_config(algorithm, {old_key}));
  const JwtCodec both(public_key_config(algorithm, {new_key_, old_key}));
  const JwtCodec after(public_key_config(algorithm, {new_key_}));
  const auto old_token = before.issue("u", at(kIat)).token;
  const auto new_token = both.issue("u", at(kIat)).token;
  EXPECT_NE(base64url_decode(split(new_token)[0])->find(new_key_->kid()), std::string::npos)
      << "the first listed key signs";
  EXPECT_EQ(outcome(both.verify(old_token, at(kNow))), "ok");
  EXPECT_EQ(outcome(both.verify(new_token, at(kNow))), "ok");
  EXPECT_EQ(outcome(after.verify(new_token, at(kNow))), "ok");
  EXPECT_EQ(outcome(after.verify(old_token, at(kNow))), "unknown_key");
  EXPECT_EQ(outcome(before.verify(new_token, at(kNow))), "unknown_key");
}

TEST_P(JwtPublicKey, RefusesTamperingAKidSwapAndAMissingKid) {
  const auto a = new_key(GetParam().type);
  const auto b = new_key(GetParam().type);
  const auto algorithm = GetParam().algorithm;
  const JwtCodec codec(public_key_config(algorithm, {a, b}));
  const auto token = codec.issue("user-42", at(kIat)).token;
  auto parts = split(token);
  const std::string alg(kit::security::to_string(algorithm));

  // The payload changed: the signature no longer matches.
  const auto tampered = parts[0] + "." + base64url_encode(R"({"sub":"admin"})") + "." + parts[2];
  EXPECT_EQ(outcome(codec.verify(tampered, at(kNow))), "bad_signature");
  // The same signature presented as made by the other listed key.
  const auto swapped_header =
      base64url_encode(R"({"alg":")" + alg + R"(","typ":"JWT","kid":")" + b->kid() + R"("})");
  const auto input = swapped_header + "." + parts[1];
  EXPECT_EQ(outcome(codec.verify(input + "." + parts[2], at(kNow))), "bad_signature");
  // A correctly signed token without kid, or naming no key of ours.
  const auto no_kid = base64url_encode(R"({"alg":")" + alg + R"(","typ":"JWT"})") + "." + parts[1];
  EXPECT_EQ(outcome(codec.verify(no_kid + "." + base64url_encode(a->sign(no_kid)), at(kNow))),
            "unknown_key");
  const auto other = new_key(GetParam().type);
  const auto foreign =
      base64url_encode(R"({"alg":")" + alg + R"(","typ":"JWT","kid":")" + other->kid() + R"("})") +
      "." + parts[1];
  EXPECT_EQ(outcome(codec.verify(foreign + "." + base64url_encode(other->sign(foreign)), at(kNow))),
            "unknown_key");
  // A signature of the right shape but from a key that is not the one named.
  const auto forged_input = parts[0] + "." + parts[1];
  EXPECT_EQ(outcome(codec.verify(forged_input + "." + base64url_encode(other->sign(forged_input)),
                                 at(kNow))),
            "bad_signature");
}

TEST_P(JwtPublicKey, RefusesHmacTokensSignedWithThePublicKey) {
  // Algorithm confusion: an attacker signs HS256 with the (public) JWK text as the secret.
  const auto key = new_key(GetParam().type);
  const JwtCodec codec(public_key_config(GetParam().algorithm, {key}));
  const auto payload = base64url_decode(split(codec.issue("u", at(kIat)).token)[1]);
  const std::string header = R"({"alg":"HS256","typ":"JWT","kid":")" + key->kid() + R"("})";
  EXPECT_EQ(
      outcome(codec.verify(forge(header, *payload, JwtAlgorithm::HS256, codec.jwks()), at(kNow))),
      "bad_algorithm");
}

TEST_P(JwtPublicKey, PublishesEveryKeyInTheJwks) {
  const auto a = new_key(GetParam().type);
  const auto b = new_key(GetParam().type);
  const JwtCodec codec(public_key_config(GetParam().algorithm, {a, b}));
  const std::string jwks = codec.jwks();
  EXPECT_EQ(jwks.rfind(R"({"keys":[{)", 0), 0u) << jwks;
  EXPECT_LT(jwks.find(a->kid()), jwks.find(b->kid())) << "configuration order";
  EXPECT_EQ(jwks.find("\"d\""), std::string::npos) << "no private part";
}

TEST_P(JwtPublicKey, ARememberedTokenStillExpiresAndItsTamperedCopiesStillFail) {
  const JwtCodec codec(public_key_config(GetParam().algorithm, {new_key(GetParam().type)}));
  const auto token = codec.issue("user-42", at(kIat)).token;
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "ok");  // verified, now remembered
  EXPECT_EQ(outcome(codec.verify(token, at(kNow))), "ok");  // from memory
  EXPECT_EQ(codec.verify(token, at(kNow)).claims().sub, "user-42");
  EXPECT_EQ(outcome(codec.verify(token, at(kExp + 29))), "ok") << "within the leeway";
  EXPECT_EQ(outcome(codec.verify(token, at(kExp + 30))), "expired");
  for (std::size_t i = token.size() - 5; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_NE(outcome(codec.verify(changed, at(kNow))), "ok") << i;
  }
  EXPECT_NE(outcome(codec.verify(token + "A", at(kNow))), "ok");
}

TEST_P(JwtPublicKey, MoreTokensThanTheMemoryHoldsAllVerify) {
  const JwtCodec codec(public_key_config(GetParam().algorithm, {new_key(GetParam().type)}));
  std::vector<std::string> tokens;
  const std::size_t count =
      kit::security::VerifiedTokens::kShards * kit::security::VerifiedTokens::kPerShard + 100;
  for (std::size_t i = 0; i < count; ++i) {
    tokens.push_back(codec.issue("user-" + std::to_string(i), at(kIat)).token);
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < count; i += 7) {
      const auto result = codec.verify(tokens[i], at(kNow));
      ASSERT_TRUE(result.ok()) << i << ": " << outcome(result);
      EXPECT_EQ(result.claims().sub, "user-" + std::to_string(i));
    }
  }
}

TEST_P(JwtPublicKey, ConstructorRefusesUnusableKeyLists) {
  const auto algorithm = GetParam().algorithm;
  const auto other_type = GetParam().type == KeyType::p256 ? KeyType::ed25519 : KeyType::p256;
  const auto key = new_key(GetParam().type);
  EXPECT_THROW(JwtCodec(public_key_config(algorithm, {})), std::invalid_argument);
  EXPECT_THROW(JwtCodec(public_key_config(algorithm, {new_key(other_type)})),
               std::invalid_argument);
  EXPECT_THROW(JwtCodec(public_key_config(algorithm, {key, key})), std::invalid_argument);
  EXPECT_THROW(JwtCodec(public_key_config(algorithm, {nullptr})), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, JwtPublicKey,
                         testing::Values(PublicKeyCase{JwtAlgorithm::EdDSA, KeyType::ed25519},
                                         PublicKeyCase{JwtAlgorithm::ES256, KeyType::p256}),
                         [](const testing::TestParamInfo<PublicKeyCase>& case_info) {
                           return std::string(kit::security::to_string(case_info.param.algorithm));
                         });

TEST(Jwt, HmacCodecsPublishNoKeysAndTakeNone) {
  EXPECT_EQ(JwtCodec(make_config()).jwks(), R"({"keys":[]})");
  JwtConfig config = make_config();
  config.keys = {new_key(KeyType::ed25519)};
  EXPECT_THROW(JwtCodec{config}, std::invalid_argument);
}

TEST(Jwt, ErrorNamesAreStable) {
  EXPECT_EQ(kit::security::to_string(TokenError::bad_signature), "bad_signature");
  EXPECT_EQ(kit::security::to_string(TokenError::too_large), "too_large");
  EXPECT_EQ(kit::security::to_string(JwtAlgorithm::HS384), "HS384");
  EXPECT_EQ(kit::security::to_string(JwtAlgorithm::EdDSA), "EdDSA");
  EXPECT_EQ(kit::security::to_string(TokenError::unknown_key), "unknown_key");
}

}  // namespace
