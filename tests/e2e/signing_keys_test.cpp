// End-to-end: public-key tokens (docs/signing-keys.md): `keys generate`, JWT_SIGNING_KEYS
// checked at start-up, EdDSA and ES256 tokens, GET /.well-known/jwks.json and
// GET /.well-known/oauth-authorization-server. The third-party verifiers (npm jose, PyJWT) and
// the two-replica rotation are tests/browser/jwks_jose.test.mjs and tests/jwks/pyjwt_test.py.
#include <sys/stat.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kit/security/base64url.hpp"
#include "kit/security/key_file.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/service_process.hpp"
#include "support/users_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fresh folder of key files, removed afterwards.
class KeyDir {
 public:
  std::string path(const std::string& name) const { return dir_.file(name); }
  // `user-service keys generate`; returns the file.
  std::string generate(const std::string& name, const std::string& alg) const {
    const auto file = path(name);
    const auto r = run_command({"keys", "generate", "--alg", alg, "--out", file}, test_env());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return file;
  }

 private:
  sqlite_test::TempDir dir_;
};

std::string kid_of(const std::string& file) {
  return kit::security::read_key_file(file).kid();
}

std::string header_of(const std::string& token) {
  return kit::security::base64url_decode(token.substr(0, token.find('.'))).value_or("");
}

TEST(SigningKeys, KeysGenerateWritesAPrivateKeyOnlyItsOwnerReadsAndNeverReplacesOne) {
  const KeyDir dir;
  for (const std::string alg : {"EdDSA", "ES256"}) {
    const auto file = dir.path(alg + ".pem");
    const auto r = run_command({"keys", "generate", "--alg", alg, "--out", file}, test_env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    struct stat info {};
    ASSERT_EQ(::stat(file.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0600u);
    const auto key = kit::security::read_key_file(file);
    EXPECT_THAT(r.out, HasSubstr("kid " + key.kid()));
    EXPECT_EQ(key.type(),
              alg == "EdDSA" ? kit::security::KeyType::ed25519 : kit::security::KeyType::p256);

    const auto again = run_command({"keys", "generate", "--alg", alg, "--out", file}, test_env());
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_THAT(again.err, HasSubstr("never replaced"));
    EXPECT_EQ(kit::security::read_key_file(file).kid(), key.kid()) << "the key was replaced";
  }
  EXPECT_EQ(
      run_command({"keys", "generate", "--alg", "HS256", "--out", dir.path("h.pem")}, test_env())
          .exit_code,
      2);
  EXPECT_EQ(run_command({"keys", "generate", "--alg", "EdDSA"}, test_env()).exit_code, 2);
}

TEST(SigningKeys, ProductionRefusesUnsafeWrongOrMissingKeysListingEveryProblem) {
  const KeyDir dir;
  const auto readable = dir.generate("readable.pem", "ES256");
  ASSERT_EQ(::chmod(readable.c_str(), 0644), 0);
  const auto ed = dir.generate("ed.pem", "EdDSA");
  const Env production{
      {"PATH", "/usr/bin:/bin"},     {"ENV_FILE", "/nonexistent/.env"},
      {"ENVIRONMENT", "production"}, {"DATABASE_URL", "postgresql://app@127.0.0.1:1/users"},
      {"JWT_ALGORITHM", "ES256"},    {"PORT", "abc"}};
  for (const std::string command : {"check-config", "serve"}) {
    Env env = production;
    env["JWT_SIGNING_KEYS"] = readable + "," + ed + "," + dir.path("missing.pem");
    const auto r = run_command({command}, env);
    EXPECT_EQ(r.exit_code, 78) << command;
    EXPECT_THAT(r.err, HasSubstr("configuration error (4 problems)"));
    EXPECT_THAT(r.err, HasSubstr("'" + readable + "' is readable by group or others"));
    EXPECT_THAT(r.err, HasSubstr("'" + ed + "' holds an Ed25519 key"));
    EXPECT_THAT(r.err, HasSubstr("missing.pem' cannot be opened"));
    EXPECT_THAT(r.err, HasSubstr("PORT:"));
    EXPECT_THAT(r.err, Not(HasSubstr("PRIVATE KEY")));
  }
  const auto none = run_command({"check-config"}, production);
  EXPECT_EQ(none.exit_code, 78);
  EXPECT_THAT(none.err, HasSubstr("JWT_SIGNING_KEYS: is required when JWT_ALGORITHM=ES256"));
}

class PublicKeyTokens : public ::testing::TestWithParam<std::string> {};

TEST_P(PublicKeyTokens, SignInIssuesTokensThatNameTheKeyAndVerifyOnlyUntampered) {
  const KeyDir dir;
  const auto first = dir.generate("first.pem", GetParam());
  const auto second = dir.generate("second.pem", GetParam());
  ServiceProcess service(
      test_env({{"JWT_ALGORITHM", GetParam()}, {"JWT_SIGNING_KEYS", first + "," + second}}));
  UsersClient client(service.port());
  const auto [id, token] = client.new_user(unique_email(), unique_password());
  EXPECT_THAT(header_of(token), HasSubstr(R"("alg":")" + GetParam() + R"(","typ":"JWT","kid":")" +
                                          kid_of(first) + "\""));
  const auto me = client.call("GET", "/api/v1/users/me", token);
  EXPECT_EQ(me.result_int(), 200) << me.body();
  EXPECT_EQ(Json(me.body())["id"], id);

  // One changed character of the signature, or a payload from elsewhere: 401 invalid_token.
  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const auto bad = client.call("GET", "/api/v1/users/me", tampered);
  EXPECT_EQ(bad.result_int(), 401);
  EXPECT_THAT(std::string(bad["WWW-Authenticate"]), HasSubstr("invalid_token"));
  // An HS256 token signed with the published key set as the secret (algorithm confusion).
  const auto jwks = get(service.port(), "/.well-known/jwks.json").body();
  const auto now = unix_now();
  const auto forged = sign_jwt(
      R"({"alg":"HS256","typ":"JWT"})",
      claims_json(id, now, now + 600, "user-service", "user-service", session_of(token)), jwks);
  EXPECT_EQ(client.call("GET", "/api/v1/users/me", forged).result_int(), 401);
}

TEST_P(PublicKeyTokens, JwksAndMetadataAreCachedPublicAndNeverRateLimited) {
  const KeyDir dir;
  const auto first = dir.generate("first.pem", GetParam());
  const auto second = dir.generate("second.pem", GetParam());
  ServiceProcess service(test_env({{"JWT_ALGORITHM", GetParam()},
                                   {"JWT_SIGNING_KEYS", first + "," + second},
                                   {"RATE_LIMIT_PER_MINUTE", "1"}}));
  for (int i = 0; i < 5; ++i) {  // a limit of 1 per minute would refuse the second
    const auto res = get(service.port(), "/.well-known/jwks.json");
    ASSERT_EQ(res.result_int(), 200) << i;
    EXPECT_EQ(res["Cache-Control"], "public, max-age=300");
    EXPECT_EQ(res.find("RateLimit"), res.end());
    const auto doc = parse_json(res.body());
    ASSERT_TRUE(doc["keys"].IsArray());
    ASSERT_EQ(doc["keys"].Size(), 2u);
    EXPECT_EQ(str(doc["keys"][0], "kid"), kid_of(first));
    EXPECT_EQ(str(doc["keys"][1], "kid"), kid_of(second));
    for (const auto& key : doc["keys"].GetArray()) {
      EXPECT_EQ(str(key, "alg"), GetParam());
      EXPECT_EQ(str(key, "use"), "sig");
      EXPECT_FALSE(key.HasMember("d")) << res.body();
    }
    const auto meta = get(service.port(), "/.well-known/oauth-authorization-server/",
                          {{"Host", "users.example.com:8443"}});
    ASSERT_EQ(meta.result_int(), 200) << meta.body();
    EXPECT_EQ(meta["Cache-Control"], "public, max-age=300");
    const auto m = parse_json(meta.body());
    EXPECT_EQ(str(m, "issuer"), "user-service");
    EXPECT_EQ(str(m, "token_endpoint"), "http://users.example.com:8443/api/v1/auth/token");
    EXPECT_EQ(str(m, "jwks_uri"), "http://users.example.com:8443/.well-known/jwks.json");
  }
  EXPECT_EQ(get(service.port(), "/api/v1/users/me").result_int(), 401);
  EXPECT_EQ(get(service.port(), "/api/v1/users/me").result_int(), 429);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, PublicKeyTokens, ::testing::Values("EdDSA", "ES256"));

TEST(SigningKeys, HmacServicesPublishAnEmptyKeySetAndMetadataUsesPublicBaseUrl) {
  ServiceProcess service(test_env({{"PUBLIC_BASE_URL", "https://users.example.com/"}}));
  const auto jwks = get(service.port(), "/.well-known/jwks.json");
  EXPECT_EQ(jwks.result_int(), 200);
  EXPECT_EQ(jwks.body(), R"({"keys":[]})");
  const auto meta = parse_json(
      get(service.port(), "/.well-known/oauth-authorization-server", {{"Host", "evil.example.net"}})
          .body());
  EXPECT_EQ(str(meta, "token_endpoint"), "https://users.example.com/api/v1/auth/token");
  EXPECT_EQ(str(meta, "jwks_uri"), "https://users.example.com/.well-known/jwks.json");
  ASSERT_TRUE(meta["grant_types_supported"].IsArray());
  ASSERT_EQ(meta["grant_types_supported"].Size(), 2u);
  EXPECT_STREQ(meta["grant_types_supported"][0].GetString(), "password");
  EXPECT_STREQ(meta["grant_types_supported"][1].GetString(), "refresh_token");
}

}  // namespace
}  // namespace e2e
