// End-to-end: the account emails of docs/account-emails.md as a user meets them, on SQLite and
// PostgreSQL: the verification link sent at registration and after an email change, the
// forgotten-password link, what each link's single-use token does, REQUIRE_VERIFIED_EMAIL, the
// `auth` rate limit of the reset request, and both ways out: a real SMTP server
// (tests/support/smtp_receiver.py, aiosmtpd) and an HTTP email service
// (tests/support/http_receiver.py). Emails leave through the outbox (docs/events.md "Delivery"),
// so every wait for one is a bounded poll. No token from an email ever reaches the service's log
// or a response body: the fixture remembers each one for the checks of users_client.hpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/json.hpp"
#include "support/smtp_receiver.hpp"
#include "support/users_client.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/script_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

const std::string kBaseUrl = "http://app.example.test";
const std::string kFrom = "no-reply@example.test";

// The token of the first link <kBaseUrl>/<path>?token=<token> in `text` ("" when there is none).
std::string link_token(const std::string& text, const std::string& path) {
  const std::regex link("http://app\\.example\\.test/" + path + "\\?token=([A-Za-z0-9_-]*)");
  std::smatch m;
  return std::regex_search(text, m, link) ? m[1].str() : std::string();
}

bool email_verified(const HttpResponse& res) {
  const auto doc = parse_json(res.body());
  return doc.IsObject() && doc.HasMember("email_verified") && doc["email_verified"].IsBool() &&
         doc["email_verified"].GetBool();
}

// The field is there and false (a missing field is not "false").
bool email_unverified(const HttpResponse& res) {
  const auto doc = parse_json(res.body());
  return doc.IsObject() && doc.HasMember("email_verified") && doc["email_verified"].IsBool() &&
         !doc["email_verified"].GetBool();
}

void expect_error(const HttpResponse& res, unsigned status, const std::string& code,
                  const std::string& what) {
  EXPECT_EQ(res.result_int(), status) << what << ": " << res.body();
  EXPECT_EQ(Json(res.body())["error"], code) << what << ": " << res.body();
}

// The messages seen, one line each, for failure messages.
std::string summary(const std::vector<Mail>& mails) {
  std::string out = std::to_string(mails.size()) + " message(s):";
  for (const auto& m : mails)
    out += "\n  #" + std::to_string(m.number) + " to " + m.to + ": " + m.subject;
  return out;
}

// Every backend, and on PostgreSQL a database of this test's own: the outbox is shared by every
// service on a database, so another test's service (with a mail server of its own) running at the
// same time on the shared one could deliver this test's emails.
class AccountEmailFlowsBase : public BackendTest {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") database_.emplace("ustest_account_emails_");
    char tmpl[] = "/tmp/user-service-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_ = backend_env(GetParam(), dir_, extra_env());
    if (database_) env_["DATABASE_URL"] = database_->url();
    service_ = std::make_unique<ServiceProcess>(env_);
    client_ = std::make_unique<UsersClient>(service_->port());
  }

  // `destination` (SMTP_URL or EMAIL_SERVICE_URL) with the settings every email needs; the rest
  // (low argon2 cost, ...) comes from test_env().
  static Env email_env(Env destination) {
    destination["EMAIL_FROM"] = kFrom;
    destination["PUBLIC_BASE_URL"] = kBaseUrl;
    return destination;
  }

  HttpResponse verify(const std::string& token) {
    return c().post_json("/api/v1/auth/verify-email", R"({"token":")" + json_escape(token) + "\"}");
  }
  HttpResponse resend(const std::string& access) {
    return c().call("POST", "/api/v1/auth/verify-email/resend", access);
  }
  HttpResponse request_reset(const std::string& email,
                             const std::map<std::string, std::string>& headers = {}) {
    Request req{"POST", "/api/v1/auth/password-reset/request", headers,
                R"({"email":")" + json_escape(email) + "\"}"};
    req.headers["Content-Type"] = "application/json";
    return c().send(req);
  }
  HttpResponse reset(const std::string& token, const std::string& new_password) {
    c().remember_password(new_password);
    return c().post_json("/api/v1/auth/password-reset", R"({"token":")" + json_escape(token) +
                                                            R"(","new_password":")" +
                                                            json_escape(new_password) + "\"}");
  }
  HttpResponse me(const std::string& access) { return c().call("GET", "/api/v1/users/me", access); }

  // The token of a link to <kBaseUrl>/<path> in both parts of an email (the HTML one with "&"
  // escaped, which a token never holds); "" with the failure recorded when it is not there.
  std::string token_in(const std::string& text, const std::string& html, const std::string& path) {
    const std::string token = link_token(text, path);
    EXPECT_EQ(token.size(), 43u) << "no /" << path << " link with a 43-character token in:\n"
                                 << text;
    if (token.size() != 43) return "";
    EXPECT_NE(html.find(kBaseUrl + "/" + path + "?token=" + token), std::string::npos)
        << "the HTML part lacks the link:\n"
        << html;
    c().remember_token(token);  // never in a log line or a response body
    return token;
  }

  std::optional<pg_test::TempDatabase> database_;
};

class AccountEmailFlows : public AccountEmailFlowsBase {
 protected:
  Env extra_env() override {
    return email_env({{"SMTP_URL", smtp_.url()}, {"RATE_LIMIT_ENABLED", "false"}});
  }

  static std::function<bool(const Mail&)> verification_to(const std::string& address) {
    return [address](const Mail& m) {
      return m.sent_to(address) && m.subject.find("Verify") != std::string::npos;
    };
  }
  static std::function<bool(const Mail&)> reset_to(const std::string& address) {
    return [address](const Mail& m) {
      return m.sent_to(address) && m.subject.find("Reset") != std::string::npos;
    };
  }

  // The token of a message's link, after checking its header fields.
  std::string token_of(const Mail& m, const std::string& address, const std::string& path) {
    EXPECT_NE(m.to.find(address), std::string::npos) << m.raw;
    EXPECT_NE(m.from.find(kFrom), std::string::npos) << m.raw;
    EXPECT_EQ(m.mail_from, kFrom);
    return token_in(m.text, m.html, path);
  }

  // Waits (bounded) for the `n`th email matching `pred` and returns its token.
  std::string nth_token(const std::function<bool(const Mail&)>& pred, std::size_t n,
                        const std::string& address, const std::string& path) {
    const auto mails = smtp_.wait_for(pred, n);
    EXPECT_GE(mails.size(), n) << "no " << path << " email #" << n << " to " << address << "; "
                               << summary(smtp_.messages());
    if (mails.size() < n) return "";
    return token_of(mails[n - 1], address, path);
  }

  SmtpReceiver smtp_;
};

// The acceptance scenario: register, verify from the email, forget the password, reset it from
// the email; the old session is gone and only the new password signs in.
TEST_P(AccountEmailFlows, AUserVerifiesTheEmailThenResetsAForgottenPassword) {
  const std::string email = unique_email("verify");
  const std::string password = unique_password();
  const auto registered = c().register_user(email, "Ada", password);
  ASSERT_EQ(registered.result_int(), 201) << registered.body();
  EXPECT_TRUE(email_unverified(registered)) << registered.body();
  const std::string id = Json(registered.body())["id"];
  // REQUIRE_VERIFIED_EMAIL is false by default: an unverified user signs in.
  const auto first = c().token_form(email, password);
  ASSERT_EQ(first.result_int(), 200) << first.body();
  const std::string old_access = Json(first.body())["access_token"];
  const std::string old_refresh = Json(first.body())["refresh_token"];

  const std::string token = nth_token(verification_to(email), 1, email, "verify-email");
  ASSERT_FALSE(token.empty());
  auto res = verify(token);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(email_verified(res)) << res.body();
  EXPECT_EQ(Json(res.body())["id"], id);
  EXPECT_EQ(Json(res.body())["email"], email);
  EXPECT_TRUE(email_verified(me(old_access)));
  expect_error(verify(token), 400, "INVALID_TOKEN", "a spent verification token");

  res = request_reset(email);
  ASSERT_EQ(res.result_int(), 202) << res.body();
  const std::string reset_token = nth_token(reset_to(email), 1, email, "reset-password");
  ASSERT_FALSE(reset_token.empty());
  EXPECT_NE(reset_token, token);
  const std::string new_password = unique_password();
  res = reset(reset_token, new_password);
  ASSERT_EQ(res.result_int(), 204) << res.body();
  EXPECT_TRUE(res.body().empty()) << res.body();

  // Every session ended with the reset.
  EXPECT_EQ(me(old_access).result_int(), 401);
  expect_error(c().refresh(old_refresh), 400, "INVALID_GRANT", "the old session's refresh token");
  expect_error(c().token_form(email, password), 401, "INVALID_CREDENTIALS", "the old password");
  const auto signed_in = c().token_form(email, new_password);
  ASSERT_EQ(signed_in.result_int(), 200) << signed_in.body();
  const auto now = me(Json(signed_in.body())["access_token"]);
  EXPECT_EQ(now.result_int(), 200) << now.body();
  EXPECT_TRUE(email_verified(now)) << now.body();
  expect_error(reset(reset_token, unique_password()), 400, "INVALID_TOKEN", "a spent reset token");
}

// Bad verification requests; resend; an email change sends a link to the new address and ends
// the links sent to the old one; a verified user's resend sends nothing.
TEST_P(AccountEmailFlows, ResendAndAnEmailChangeSendNewLinksAndOldOnesStopWorking) {
  expect_error(c().post_json("/api/v1/auth/verify-email", "{}"), 422, "VALIDATION_ERROR",
               "no token");
  expect_error(verify(std::string(43, 'A')), 400, "INVALID_TOKEN", "an unknown token");

  const std::string email = unique_email("resend");
  const std::string password = unique_password();
  const auto [id, access] = c().new_user(email, password);
  const std::string first = nth_token(verification_to(email), 1, email, "verify-email");
  ASSERT_FALSE(first.empty());

  EXPECT_EQ(resend("").result_int(), 401);
  auto res = resend(access);
  ASSERT_EQ(res.result_int(), 202) << res.body();
  EXPECT_FALSE(Json(res.body())["message"].empty()) << res.body();
  EXPECT_NE(Json(res.body())["message"], "<missing>") << res.body();
  const std::string second = nth_token(verification_to(email), 2, email, "verify-email");
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);

  const std::string new_email = unique_email("resend-new");
  res = c().call("PATCH", "/api/v1/users/me", access,
                 R"({"email":")" + new_email + R"(","current_password":")" + password + "\"}");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(Json(res.body())["email"], new_email);
  EXPECT_TRUE(email_unverified(res)) << res.body();
  const std::string third = nth_token(verification_to(new_email), 1, new_email, "verify-email");
  ASSERT_FALSE(third.empty());

  // The links to the old address name an address the user no longer has.
  expect_error(verify(first), 400, "INVALID_TOKEN", "the first link to the old address");
  expect_error(verify(second), 400, "INVALID_TOKEN", "the resent link to the old address");
  res = verify(third);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(email_verified(res)) << res.body();
  EXPECT_EQ(Json(res.body())["email"], new_email);
  expect_error(verify(third), 400, "INVALID_TOKEN", "the new address's link, used twice");
  EXPECT_TRUE(email_verified(me(access)));

  // Verified: the resend answers the same and sends nothing. A user's emails leave in the order
  // they were written (docs/events.md "Delivery"), so once a reset link requested afterwards has
  // arrived, a verification email from the resend would have arrived before it.
  res = resend(access);
  ASSERT_EQ(res.result_int(), 202) << res.body();
  EXPECT_FALSE(Json(res.body())["message"].empty()) << res.body();
  ASSERT_EQ(request_reset(new_email).result_int(), 202);
  ASSERT_EQ(smtp_.wait_for(reset_to(new_email)).size(), 1u) << summary(smtp_.messages());
  EXPECT_EQ(smtp_.wait_for(verification_to(new_email), 1, 0ms).size(), 1u)
      << summary(smtp_.messages());
  EXPECT_EQ(smtp_.wait_for(verification_to(email), 2, 0ms).size(), 2u) << summary(smtp_.messages());
}

// The reset request answers alike for any address and mails only a registered one; the reset
// link works once, checks the new password first, and proves the address.
TEST_P(AccountEmailFlows, APasswordResetRevealsNoAddressAndProvesTheEmail) {
  const std::string email = unique_email("reset");
  const std::string password = unique_password();
  const auto [id, access] = c().new_user(email, password);
  EXPECT_TRUE(email_unverified(me(access)));
  const std::string unknown = unique_email("nobody");

  // The unregistered address is asked for first: had it been written an email, that email would
  // leave no later than the registered address's, written after it (docs/events.md "Delivery").
  const auto for_unknown = request_reset(unknown);
  const auto for_registered = request_reset(email);
  EXPECT_EQ(for_unknown.result_int(), 202) << for_unknown.body();
  EXPECT_EQ(for_registered.result_int(), 202) << for_registered.body();
  EXPECT_EQ(for_unknown.body(), for_registered.body());
  EXPECT_EQ(for_unknown[boost::beast::http::field::content_type],
            for_registered[boost::beast::http::field::content_type]);
  expect_error(request_reset("not-an-email"), 422, "VALIDATION_ERROR", "a malformed address");
  expect_error(c().post_json("/api/v1/auth/password-reset/request", "{}"), 422, "VALIDATION_ERROR",
               "no address");

  const auto resets = smtp_.wait_for(reset_to(email));
  ASSERT_EQ(resets.size(), 1u) << summary(smtp_.messages());
  const std::string token = token_of(resets[0], email, "reset-password");
  ASSERT_FALSE(token.empty());
  for (const auto& m : smtp_.messages()) {
    EXPECT_FALSE(m.sent_to(unknown)) << "an email to an unregistered address:\n" << m.raw;
  }

  expect_error(reset(token, "short"), 422, "VALIDATION_ERROR", "a 5-character password");
  expect_error(c().post_json("/api/v1/auth/password-reset", R"({"token":")" + token + "\"}"), 422,
               "VALIDATION_ERROR", "no new password");
  expect_error(reset(std::string(43, 'A'), unique_password()), 400, "INVALID_TOKEN",
               "an unknown reset token");
  // The verification link is no reset link.
  const std::string verification = nth_token(verification_to(email), 1, email, "verify-email");
  ASSERT_FALSE(verification.empty());
  expect_error(reset(verification, unique_password()), 400, "INVALID_TOKEN",
               "a verification token at the reset route");

  const std::string new_password = unique_password();
  auto res = reset(token, new_password);
  ASSERT_EQ(res.result_int(), 204) << res.body();
  EXPECT_EQ(me(access).result_int(), 401);
  const std::string fresh = c().login(email, new_password);
  res = me(fresh);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(email_verified(res)) << "the reset link proved the address: " << res.body();
  expect_error(reset(token, unique_password()), 400, "INVALID_TOKEN", "a spent reset token");
  expect_error(verify(token), 400, "INVALID_TOKEN", "a reset token at the verification route");
  for (const auto& m : smtp_.messages()) {
    EXPECT_FALSE(m.sent_to(unknown)) << "an email to an unregistered address:\n" << m.raw;
  }
}

// REQUIRE_VERIFIED_EMAIL=true, and the `auth` policy (3 a minute here) on the reset request.
// Clients are told apart by X-Forwarded-For from the trusted 127.0.0.1, one address per budget.
class AccountEmailFlowsRequiringVerification : public AccountEmailFlows {
 protected:
  Env extra_env() override {
    return email_env({{"SMTP_URL", smtp_.url()},
                      {"REQUIRE_VERIFIED_EMAIL", "true"},
                      {"LOGIN_RATE_LIMIT_PER_MINUTE", "3"},
                      {"TRUSTED_PROXIES", "127.0.0.1/32"}});
  }

  HttpResponse sign_in_from(const std::string& client_ip, const std::string& email,
                            const std::string& password) {
    c().remember_password(password);
    auto res = c().send(Request{
        "POST",
        "/api/v1/auth/token",
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Forwarded-For", client_ip}},
        "username=" + form_encode(email) + "&password=" + form_encode(password)});
    if (res.result_int() == 200) {
      const Json j(res.body());
      c().remember_token(j["access_token"]);
      c().remember_token(j["refresh_token"]);
    }
    return res;
  }
};

TEST_P(AccountEmailFlowsRequiringVerification, SignInWaitsForTheEmailAndResetRequestsAreLimited) {
  const std::string email = unique_email("required");
  const std::string password = unique_password();
  const auto registered = c().register_user(email, "Grace", password);
  ASSERT_EQ(registered.result_int(), 201) << registered.body();
  EXPECT_TRUE(email_unverified(registered)) << registered.body();

  auto res = sign_in_from("198.51.100.1", email, password);
  expect_error(res, 403, "EMAIL_NOT_VERIFIED", "the right password, unverified");
  EXPECT_EQ(res.body().find("access_token"), std::string::npos) << res.body();
  expect_error(sign_in_from("198.51.100.2", email, password + "-wrong"), 401, "INVALID_CREDENTIALS",
               "a wrong password, unverified");
  const std::string token = nth_token(verification_to(email), 1, email, "verify-email");
  ASSERT_FALSE(token.empty());
  res = verify(token);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(email_verified(res)) << res.body();
  res = sign_in_from("198.51.100.3", email, password);
  EXPECT_EQ(res.result_int(), 200) << res.body();

  // Per address: three clients ask for one address, a fourth is refused.
  const std::string target = unique_email("limited");
  for (int i = 0; i < 3; ++i) {
    res = request_reset(target, {{"X-Forwarded-For", "203.0.113." + std::to_string(10 + i)}});
    EXPECT_EQ(res.result_int(), 202) << i << ": " << res.body();
  }
  res = request_reset(target, {{"X-Forwarded-For", "203.0.113.20"}});
  expect_error(res, 429, "RATE_LIMITED", "a fourth request for one address");
  EXPECT_FALSE(res["Retry-After"].empty());
  // Per client: one client asks for three addresses, a fourth is refused.
  for (int i = 0; i < 3; ++i) {
    res = request_reset(unique_email("spray"), {{"X-Forwarded-For", "192.0.2.50"}});
    EXPECT_EQ(res.result_int(), 202) << i << ": " << res.body();
  }
  res = request_reset(unique_email("spray"), {{"X-Forwarded-For", "192.0.2.50"}});
  expect_error(res, 429, "RATE_LIMITED", "a fourth request from one client");
  EXPECT_FALSE(res["Retry-After"].empty());
}

// The same verification through an HTTP email service: one JSON POST per email, the outbox
// event's id as its idempotency key in the body and the Idempotency-Key header.
class AccountEmailFlowsViaEmailService : public AccountEmailFlowsBase {
 protected:
  struct Call {
    std::string path;
    std::string idempotency_header;
    std::string traceparent;
    std::string content_type;
    std::string body;
  };

  Env extra_env() override {
    return email_env(
        {{"EMAIL_SERVICE_URL", "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/send"},
         {"RATE_LIMIT_ENABLED", "false"}});
  }

  // The calls recorded so far (complete lines only: the receiver may be writing the last one).
  std::vector<Call> calls() const {
    std::vector<Call> out;
    const std::string log = test_support::read_text_file(log_);
    std::size_t at = 0;
    for (auto nl = log.find('\n'); nl != std::string::npos; nl = log.find('\n', at)) {
      rapidjson::Document line;
      line.Parse(log.data() + at, nl - at);
      at = nl + 1;
      if (line.HasParseError() || !line.IsObject() || !line["headers"].IsObject()) continue;
      const auto& h = line["headers"];
      out.push_back(Call{str(line, "path"), str(h, "idempotency-key"), str(h, "traceparent"),
                         str(h, "content-type"), str(line, "body")});
    }
    return out;
  }

  // The first call whose body is an email to `address`, waited for (bounded, polled).
  std::optional<Call> wait_for_email_to(const std::string& address) const {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      for (const auto& call : calls()) {
        rapidjson::Document body;
        body.Parse(call.body.c_str(), call.body.size());
        if (!body.HasParseError() && str(body, "to") == address) return call;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(50ms);
    }
  }

  sqlite_test::TempDir files_;
  std::string log_ = files_.file("requests.jsonl");
  test_support::ScriptServer receiver_{"http_receiver.py", {log_}};
};

TEST_P(AccountEmailFlowsViaEmailService, TheVerificationLinkArrivesAsAJsonPost) {
  const std::string email = unique_email("via-service");
  const auto [id, access] = c().new_user(email, unique_password());
  const auto call = wait_for_email_to(email);
  ASSERT_TRUE(call) << "no email service call for " << email << "; log:\n"
                    << test_support::read_text_file(log_);
  EXPECT_EQ(call->path, "/send");
  EXPECT_NE(call->content_type.find("application/json"), std::string::npos) << call->content_type;
  const auto body = parse_json(call->body);
  EXPECT_NE(str(body, "subject").find("Verify"), std::string::npos) << call->body;
  const std::string key = str(body, "idempotency_key");
  EXPECT_TRUE(std::regex_match(
      key, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")))
      << call->body;
  EXPECT_EQ(call->idempotency_header, key);
  EXPECT_TRUE(
      std::regex_match(call->traceparent, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")))
      << call->traceparent;
  const std::string token = token_in(str(body, "text"), str(body, "html"), "verify-email");
  ASSERT_FALSE(token.empty());

  const auto res = verify(token);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(email_verified(res)) << res.body();
  EXPECT_TRUE(email_verified(me(access)));
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountEmailFlows, ::testing::Values("sqlite", "postgres"),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, AccountEmailFlowsRequiringVerification,
                         ::testing::Values("sqlite", "postgres"), backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, AccountEmailFlowsViaEmailService,
                         ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
