// End-to-end: docs/http-api.md "Authentication" through HTTP against the real binary, on SQLite and
// PostgreSQL: the token route (form and JSON), identical 401s for unknown email and wrong
// password, the bearer dependency and every kind of forged token.
#include <gtest/gtest.h>

#include "support/users_client.hpp"

namespace e2e {
namespace {

class Auth : public BackendTest {};

std::string without_request_id(const std::string& body) {
  Json j(body);
  return j["error"] + "|" + j["message"] + "|" + (j.doc.HasMember("details") ? "details" : "");
}

void expect_401(const HttpResponse& res, const std::string& www_authenticate) {
  EXPECT_EQ(res.result_int(), 401) << res.body();
  EXPECT_EQ(Json(res.body())["error"], "UNAUTHORIZED") << res.body();
  EXPECT_EQ(res["WWW-Authenticate"], www_authenticate);
}

TEST_P(Auth, FormTokenIsABearerJwtThatOpensMe) {
  const std::string email = unique_email("tok");
  const std::string password = unique_password();
  ASSERT_EQ(c().register_user(email, "Tok", password).result_int(), 201);
  const auto res = c().token_form(email, password);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res["Cache-Control"], "no-store");
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json; charset=utf-8");
  Json j(res.body());
  EXPECT_EQ(j["token_type"], "bearer");
  ASSERT_TRUE(j.doc["expires_in"].IsInt64());
  EXPECT_EQ(j.doc["expires_in"].GetInt64(), 3600);
  EXPECT_EQ(j.doc.MemberCount(), 5u);  // and refresh_token, refresh_expires_in
  const std::string token = j["access_token"];
  // Header and claims as docs/http-api.md lists them.
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 + 1);
  Json header(*kit::security::base64url_decode(token.substr(0, dot1)));
  EXPECT_EQ(header["alg"], "HS256");
  Json claims(*kit::security::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
  for (const char* claim : {"sub", "iat", "exp", "iss", "aud", "jti"}) {
    EXPECT_TRUE(claims.doc.HasMember(claim)) << claim;
  }
  EXPECT_EQ(claims["iss"], "user-service");
  EXPECT_EQ(claims["aud"], "user-service");
  EXPECT_EQ(claims.doc["exp"].GetInt64() - claims.doc["iat"].GetInt64(), 3600);
  const auto me = c().call("GET", "/api/v1/users/me", token);
  EXPECT_EQ(me.result_int(), 200);
  EXPECT_EQ(Json(me.body())["id"], claims["sub"]);
}

TEST_P(Auth, JsonTokenAndEmailCaseAndGrantType) {
  const std::string email = unique_email("json");
  const std::string password = unique_password();
  ASSERT_EQ(c().register_user(email, "J", password).result_int(), 201);
  EXPECT_EQ(c().token_json(email, password).result_int(), 200);
  std::string upper = email;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(c().token_form(" " + upper + " ", password).result_int(), 200);
  EXPECT_EQ(c().token_form(email, password, "&grant_type=password").result_int(), 200);
  const auto other = c().token_form(email, password, "&grant_type=client_credentials");
  EXPECT_EQ(other.result_int(), 422) << other.body();
  EXPECT_NE(other.body().find("grant_type"), std::string::npos);
  // Passwords are exact: no trimming, case-sensitive.
  EXPECT_EQ(c().token_form(email, password + " ").result_int(), 401);
}

TEST_P(Auth, UnknownEmailAndWrongPasswordGiveTheSame401) {
  const std::string email = unique_email("same");
  const std::string password = unique_password();
  ASSERT_EQ(c().register_user(email, "S", password).result_int(), 201);
  const std::string wrong = unique_password();
  const auto wrong_pw = c().token_form(email, wrong);
  const auto unknown = c().token_form(unique_email("ghost"), wrong);
  const auto malformed = c().token_form("not an email", wrong);
  for (const auto* res : {&wrong_pw, &unknown, &malformed}) {
    EXPECT_EQ(res->result_int(), 401) << res->body();
    EXPECT_EQ(Json(res->body())["error"], "INVALID_CREDENTIALS");
    EXPECT_EQ((*res)["WWW-Authenticate"], "Bearer");
  }
  EXPECT_EQ(without_request_id(wrong_pw.body()), without_request_id(unknown.body()));
  EXPECT_EQ(without_request_id(wrong_pw.body()), without_request_id(malformed.body()));
  EXPECT_EQ(wrong_pw.body().size(), unknown.body().size());
}

TEST_P(Auth, TokenRouteInputErrors) {
  const auto missing = c().post_json("/api/v1/auth/token", "username=a%40b.co", "",
                                     "application/x-www-form-urlencoded");
  EXPECT_EQ(missing.result_int(), 422) << missing.body();
  EXPECT_NE(missing.body().find("\"field\":\"password\""), std::string::npos);
  EXPECT_EQ(c().post_json("/api/v1/auth/token", "username=a", "", "text/plain").result_int(), 415);
  EXPECT_EQ(c().post_json("/api/v1/auth/token", "username=%zz&password=x", "",
                          "application/x-www-form-urlencoded")
                .result_int(),
            400);
  EXPECT_EQ(c().post_json("/api/v1/auth/token", "username=%FF&password=x", "",
                          "application/x-www-form-urlencoded")
                .result_int(),
            400)
      << "invalid UTF-8";
  EXPECT_EQ(c().post_json("/api/v1/auth/token", "username=a&username=b&password=x", "",
                          "application/x-www-form-urlencoded")
                .result_int(),
            400)
      << "repeated OAuth2 parameter";
  EXPECT_EQ(c().post_json("/api/v1/auth/token", R"({"username":)").result_int(), 400);
}

TEST_P(Auth, MissingOrMalformedAuthorization) {
  expect_401(c().call("GET", "/api/v1/users/me"), "Bearer");
  Request basic{"GET", "/api/v1/users/me", {{"Authorization", "Basic dXNlcjpwYXNz"}}, ""};
  expect_401(c().send(basic), "Bearer");
  expect_401(c().call("GET", "/api/v1/users/me", "not.a.jwt"), R"(Bearer error="invalid_token")");
  expect_401(c().call("GET", "/api/v1/users/me", "garbage"), R"(Bearer error="invalid_token")");
  Request empty{"GET", "/api/v1/users/me", {{"Authorization", "Bearer "}}, ""};
  expect_401(c().send(empty), R"(Bearer error="invalid_token")");
}

TEST_P(Auth, ForgedTokensAreRejected) {
  const std::string password = unique_password();
  const auto [id, real] = c().new_user(unique_email("forge"), password);
  const std::int64_t now = unix_now();
  const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";
  const std::string sid = session_of(real);
  ASSERT_FALSE(sid.empty());
  const std::string good_claims =
      claims_json(id, now, now + 600, "user-service", "user-service", sid);

  // Sanity: a token crafted here with the right secret is accepted, so the rejections below
  // are about the one thing each of them changes.
  const std::string crafted = sign_jwt(hs256, good_claims, kJwtSecret);
  c().remember_token(crafted);
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", crafted).result_int(), 200);

  std::vector<std::pair<std::string, std::string>> forged;
  const std::string none_input = kit::security::base64url_encode(R"({"alg":"none","typ":"JWT"})") +
                                 "." + kit::security::base64url_encode(good_claims);
  forged.emplace_back("alg none, no signature", none_input + ".");
  forged.emplace_back("alg none, real signature", none_input + real.substr(real.rfind('.')));
  forged.emplace_back(
      "HS512 while HS256 is configured",
      sign_jwt(R"({"alg":"HS512","typ":"JWT"})", good_claims, kJwtSecret, EVP_sha512()));
  forged.emplace_back(
      "HS384 while HS256 is configured",
      sign_jwt(R"({"alg":"HS384","typ":"JWT"})", good_claims, kJwtSecret, EVP_sha384()));
  forged.emplace_back("wrong secret",
                      sign_jwt(hs256, good_claims, "another-secret-that-is-long-enough-000000"));
  std::string tampered = real;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  forged.emplace_back("tampered signature", tampered);
  forged.emplace_back("claims swapped under a real signature",
                      kit::security::base64url_encode(hs256) + "." +
                          kit::security::base64url_encode(claims_json(
                              id, now, now + 99999, "user-service", "user-service", sid)) +
                          real.substr(real.rfind('.')));
  forged.emplace_back(
      "expired beyond the 30 s leeway",
      sign_jwt(hs256, claims_json(id, now - 7200, now - 60, "user-service", "user-service", sid),
               kJwtSecret));
  forged.emplace_back(
      "wrong issuer",
      sign_jwt(hs256, claims_json(id, now, now + 600, "someone-else", "user-service", sid),
               kJwtSecret));
  forged.emplace_back(
      "wrong audience",
      sign_jwt(hs256, claims_json(id, now, now + 600, "user-service", "other-api", sid),
               kJwtSecret));
  forged.emplace_back("unknown subject",
                      sign_jwt(hs256,
                               claims_json("0190a0a0-0000-7000-8000-000000000000", now, now + 600,
                                           "user-service", "user-service", sid),
                               kJwtSecret));
  forged.emplace_back("no session", sign_jwt(hs256, claims_json(id, now, now + 600), kJwtSecret));
  forged.emplace_back("missing exp",
                      sign_jwt(hs256,
                               R"({"sub":")" + id + R"(","iat":)" + std::to_string(now) +
                                   R"(,"iss":"user-service","aud":"user-service","jti":"x"})",
                               kJwtSecret));
  for (const auto& [what, token] : forged) {
    c().remember_token(token);
    const auto res = c().call("GET", "/api/v1/users/me", token);
    EXPECT_EQ(res.result_int(), 401) << what << ": " << res.body();
    EXPECT_EQ(res["WWW-Authenticate"], R"(Bearer error="invalid_token")") << what;
  }

  // Expired but within the leeway still passes (docs/http-api.md: exp with 30 s leeway).
  const std::string within = sign_jwt(
      hs256, claims_json(id, now - 3600, now - 5, "user-service", "user-service", sid), kJwtSecret);
  c().remember_token(within);
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", within).result_int(), 200);
}

TEST_P(Auth, DeletedUsersTokenIs401) {
  const auto [id, token] = c().new_user(unique_email("gone"), unique_password());
  const std::string second = c().login(
      Json(c().call("GET", "/api/v1/users/me", token).body())["email"], c().passwords().back());
  ASSERT_EQ(c().call("DELETE", "/api/v1/users/me", token).result_int(), 204);
  expect_401(c().call("GET", "/api/v1/users/me", token), R"(Bearer error="invalid_token")");
  expect_401(c().call("GET", "/api/v1/users/me", second), R"(Bearer error="invalid_token")");
  expect_401(c().call("GET", "/api/v1/users/" + id, second), R"(Bearer error="invalid_token")");
}

INSTANTIATE_TEST_SUITE_P(Backends, Auth, ::testing::Values("sqlite", "postgres"), backend_name);

// A stored hash of a lower cost is replaced on the next successful login.
class Rehash : public BackendTest {};

TEST_P(Rehash, OlderCostIsRehashedOnLogin) {
  const std::string email = unique_email("rehash");
  const std::string password = unique_password();
  ASSERT_EQ(c().register_user(email, "R", password).result_int(), 201);
  // Same database, higher cost.
  expect_no_secrets_logged();
  const auto passwords = c().passwords();
  service_.reset();
  Env stronger = env_;
  stronger["PASSWORD_HASH_MEMORY_KIB"] = "16";
  stronger["PASSWORD_HASH_ITERATIONS"] = "2";
  service_ = std::make_unique<ServiceProcess>(stronger);
  client_ = std::make_unique<UsersClient>(service_->port());
  for (const auto& p : passwords) c().remember_password(p);
  ASSERT_EQ(c().token_form(email, password).result_int(), 200);
  EXPECT_TRUE(service_->wait_for_line(
      [](const std::string& l) {
        return l.find("\"event\":\"password_rehashed\"") != std::string::npos;
      },
      std::chrono::seconds(5)));
  ASSERT_EQ(c().token_form(email, password).result_int(), 200);
  std::size_t rehashes = 0;
  for (const auto& l : service_->lines()) {
    if (l.find("\"event\":\"password_rehashed\"") != std::string::npos) ++rehashes;
  }
  EXPECT_EQ(rehashes, 1u) << "the new hash has the configured cost: no second re-hash";
}

INSTANTIATE_TEST_SUITE_P(Backends, Rehash, ::testing::Values("sqlite", "postgres"), backend_name);

// The configured algorithm is the one used and the only one accepted.
class Hs512 : public BackendTest {
 protected:
  Env extra_env() override { return {{"JWT_ALGORITHM", "HS512"}}; }
};

TEST_P(Hs512, IssuesAndAcceptsOnlyHs512) {
  const auto [id, token] = c().new_user(unique_email("hs512"), unique_password());
  Json header(*kit::security::base64url_decode(token.substr(0, token.find('.'))));
  EXPECT_EQ(header["alg"], "HS512");
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", token).result_int(), 200);
  const std::int64_t now = unix_now();
  const std::string hs256 =
      sign_jwt(R"({"alg":"HS256","typ":"JWT"})",
               claims_json(id, now, now + 600, "user-service", "user-service", session_of(token)),
               kJwtSecret);
  c().remember_token(hs256);
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", hs256).result_int(), 401);
}

INSTANTIATE_TEST_SUITE_P(Backends, Hs512, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
