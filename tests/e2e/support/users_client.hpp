#pragma once
// Helpers for the users/auth end-to-end tests: the backend parameter (sqlite | postgres), unique
// emails and passwords, a client for the users and token routes, forged JWTs (OpenSSL HMAC), and
// a fixture that runs every test against the real binary and checks afterwards that no log line
// and no response body ever contained a password, a password hash or a token.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "kit/security/base64url.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/service_process.hpp"

namespace e2e {

inline const char* const kJwtSecret = "e2e-test-secret-that-is-long-enough-0123456789";

inline std::string random_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  static std::mutex mu;
  std::lock_guard lock(mu);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s.push_back(hex[rng() % 16]);
  return s;
}

// Unique per call: the PostgreSQL database is shared by every test and every run.
inline std::string unique_email(const std::string& prefix = "user") {
  return prefix + "-" + random_suffix() + "@example.com";
}
// Distinctive, so a leak is found by a plain substring search.
inline std::string unique_password() {
  return "Pw-secret-" + random_suffix();
}

inline std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

inline std::string form_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

inline std::string user_json(const std::string& email, const std::string& name,
                             const std::string& password, const std::string& extra = "") {
  return R"({"email":")" + json_escape(email) + R"(","name":")" + json_escape(name) +
         R"(","password":")" + json_escape(password) + "\"" + extra + "}";
}

// HMAC-signed JWT with any header and payload (the tests forge tokens with it).
inline std::string sign_jwt(const std::string& header_json, const std::string& payload_json,
                            const std::string& secret, const EVP_MD* md = EVP_sha256()) {
  const std::string input = kit::security::base64url_encode(header_json) + "." +
                            kit::security::base64url_encode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." +
         kit::security::base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `sid`: the session claim (docs/sessions.md); a token without one is refused.
inline std::string claims_json(const std::string& sub, std::int64_t iat, std::int64_t exp,
                               const std::string& iss = "user-service",
                               const std::string& aud = "user-service",
                               const std::string& sid = "") {
  return R"({"sub":")" + sub + R"(","iat":)" + std::to_string(iat) + R"(,"exp":)" +
         std::to_string(exp) + R"(,"iss":")" + iss + R"(","aud":")" + aud +
         R"(","jti":"0123456789abcdef0123456789abcdef")" +
         (sid.empty() ? std::string() : R"(,"sid":")" + sid + "\"") + "}";
}

// The `sid` claim of a token this service issued ("" when it has none).
inline std::string session_of(const std::string& token) {
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 + 1);
  const auto payload = kit::security::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return "";
  const auto at = payload->find(R"("sid":")");
  if (at == std::string::npos) return "";
  const auto start = at + 7;
  return payload->substr(start, payload->find('"', start) - start);
}

// The environment for one backend. sqlite: a fresh database file in `dir` (a file, not
// :memory:, so `create-admin` and the server see the same data). postgres: the shared test
// database from USER_SERVICE_TEST_PG_URL; when that is unset the test FAILS (never skips).
inline Env backend_env(const std::string& backend, const std::string& dir, Env extra = {}) {
  if (backend == "postgres") {
    const char* url = std::getenv("USER_SERVICE_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
      throw std::runtime_error(
          "USER_SERVICE_TEST_PG_URL is not set: start the test server with "
          "`export USER_SERVICE_TEST_PG_URL=$(bash scripts/pg-test-server.sh start)`");
    }
    extra["DATABASE_URL"] = url;
  } else {
    extra["DATABASE_URL"] = "sqlite:///" + dir + "/users.db";
  }
  return test_env(std::move(extra));
}

struct Json {
  rapidjson::Document doc;
  explicit Json(const std::string& text) : doc(parse_json(text)) {}
  std::string operator[](const char* key) const { return str(doc, key); }
};

class UsersClient {
 public:
  explicit UsersClient(unsigned short port) : port_(port) {}

  // Every response goes through here: bodies must never hold a hash, a password or (outside
  // the token route) a token.
  HttpResponse send(const Request& req) {
    HttpResponse res = request(port_, req);
    last_request_id_ = std::string(res["X-Request-ID"]);
    const std::string& body = res.body();
    EXPECT_EQ(body.find("$argon2"), std::string::npos) << req.target << ": " << body;
    for (const auto& p : passwords_) {
      EXPECT_EQ(body.find(p), std::string::npos) << "password in body of " << req.target;
    }
    if (req.target.rfind("/api/v1/auth/token", 0) != 0) {
      for (const auto& t : tokens_) {
        EXPECT_EQ(body.find(t), std::string::npos) << "token in body of " << req.target;
      }
    }
    return res;
  }

  HttpResponse post_json(const std::string& target, const std::string& body,
                         const std::string& token = "",
                         const std::string& content_type = "application/json") {
    Request req{"POST", target, {}, body};
    if (!content_type.empty()) req.headers["Content-Type"] = content_type;
    if (!token.empty()) req.headers["Authorization"] = "Bearer " + token;
    return send(req);
  }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& token = "", const std::string& body = "",
                    const std::string& content_type = "application/json") {
    Request req{method, target, {}, body};
    if (!body.empty()) req.headers["Content-Type"] = content_type;
    if (!token.empty()) req.headers["Authorization"] = "Bearer " + token;
    return send(req);
  }
  HttpResponse register_user(const std::string& email, const std::string& name,
                             const std::string& password, const std::string& extra = "") {
    remember_password(password);
    return post_json("/api/v1/users/", user_json(email, name, password, extra));
  }
  HttpResponse token_form(const std::string& username, const std::string& password,
                          const std::string& extra = "") {
    remember_password(password);
    HttpResponse res = post_json(
        "/api/v1/auth/token",
        "username=" + form_encode(username) + "&password=" + form_encode(password) + extra, "",
        "application/x-www-form-urlencoded");
    remember_token_of(res);
    return res;
  }
  // The refresh grant, as a form (grant_type=refresh_token).
  HttpResponse refresh(const std::string& refresh_token) {
    HttpResponse res =
        post_json("/api/v1/auth/token",
                  "grant_type=refresh_token&refresh_token=" + form_encode(refresh_token), "",
                  "application/x-www-form-urlencoded");
    remember_token_of(res);
    return res;
  }
  HttpResponse token_json(const std::string& username, const std::string& password) {
    remember_password(password);
    HttpResponse res =
        post_json("/api/v1/auth/token", R"({"username":")" + json_escape(username) +
                                            R"(","password":")" + json_escape(password) + "\"}");
    remember_token_of(res);
    return res;
  }
  // Registers a user and logs in; returns {id, token}.
  std::pair<std::string, std::string> new_user(const std::string& email,
                                               const std::string& password,
                                               const std::string& name = "Test User") {
    const auto reg = register_user(email, name, password);
    EXPECT_EQ(reg.result_int(), 201) << reg.body();
    const std::string id = Json(reg.body())["id"];
    return {id, login(email, password)};
  }
  std::string login(const std::string& email, const std::string& password) {
    const auto res = token_form(email, password);
    EXPECT_EQ(res.result_int(), 200) << res.body();
    return Json(res.body())["access_token"];
  }

  void remember_password(const std::string& p) {
    if (p.size() >= 8) passwords_.push_back(p);
  }
  void remember_token(const std::string& t) {
    if (t.size() > 20) tokens_.push_back(t);
  }
  const std::deque<std::string>& passwords() const { return passwords_; }
  const std::vector<std::string>& tokens() const { return tokens_; }
  unsigned short port() const { return port_; }

 private:
  void remember_token_of(const HttpResponse& res) {
    if (res.result_int() != 200) return;
    const Json j(res.body());
    remember_token(j["access_token"]);
    if (j.doc.HasMember("refresh_token")) remember_token(j["refresh_token"]);
  }

  unsigned short port_;
  std::string last_request_id_;
  // A deque: remembering a password must not move the ones callers still hold references to.
  std::deque<std::string> passwords_;
  std::vector<std::string> tokens_;
};

// One service per test, on the backend named by the test parameter.
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/user-service-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_ = backend_env(GetParam(), dir_, extra_env());
    service_ = std::make_unique<ServiceProcess>(env_);
    client_ = std::make_unique<UsersClient>(service_->port());
  }

  void TearDown() override {
    if (service_ && client_) expect_no_secrets_logged();
    client_.reset();
    service_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  virtual Env extra_env() { return {}; }

  // A request with a marker id is logged after every earlier one; once it shows up, all lines
  // of this test are there to be searched.
  void expect_no_secrets_logged() {
    const std::string marker = "logcheck-" + random_suffix();
    get(service_->port(), "/__log_barrier__", {{"X-Request-ID", marker}});
    const auto seen = service_->wait_for_line(
        [&](const std::string& l) { return l.find(marker) != std::string::npos; },
        std::chrono::seconds(5));
    EXPECT_TRUE(seen) << "marker request was not logged";
    for (const auto& line : service_->lines()) {
      EXPECT_EQ(line.find("$argon2"), std::string::npos) << line;
      for (const auto& p : client_->passwords()) {
        EXPECT_EQ(line.find(p), std::string::npos) << "password logged: " << line;
      }
      for (const auto& t : client_->tokens()) {
        EXPECT_EQ(line.find(t), std::string::npos) << "token logged: " << line;
        // Not even the signature part alone.
        const std::string signature = t.substr(t.rfind('.') + 1);
        if (signature.size() >= 16) {
          EXPECT_EQ(line.find(signature), std::string::npos) << line;
        }
      }
    }
  }

  // Creates (or promotes) an admin with the CLI against this test's database and logs in.
  std::string admin_token() {
    const std::string email = unique_email("admin");
    const std::string password = unique_password();
    client_->remember_password(password);
    const auto r = run_command({"create-admin", "--email", email, "--name", "Admin"}, env_,
                               std::chrono::seconds(30), password + "\n");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return client_->login(email, password);
  }

  UsersClient& c() { return *client_; }
  unsigned short port() const { return service_->port(); }

  std::string dir_;
  Env env_;
  std::unique_ptr<ServiceProcess> service_;
  std::unique_ptr<UsersClient> client_;
};

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace e2e
