// End-to-end: sessions and the token lifecycle of docs/sessions.md through HTTP against the real
// binary, on SQLite and PostgreSQL: refresh with rotation, the grace for a lost answer, theft
// detection, the concurrent-refresh race, logout, the listing and every kind of revocation.
#include <gtest/gtest.h>

#include <latch>
#include <set>
#include <thread>

#include "support/users_client.hpp"

namespace e2e {
namespace {

struct Tokens {
  std::string access;
  std::string refresh;
};

class Sessions : public BackendTest {
 protected:
  Env extra_env() override { return {{"RATE_LIMIT_ENABLED", "false"}}; }

  Tokens tokens_of(const HttpResponse& res) {
    EXPECT_EQ(res.result_int(), 200) << res.body();
    const Json j(res.body());
    return {j["access_token"], j["refresh_token"]};
  }

  // A new user signed in once: {id, email, password, tokens}.
  struct Account {
    std::string id;
    std::string email;
    std::string password;
    Tokens tokens;
  };
  Account new_account() {
    Account a{"", unique_email("sess"), unique_password(), {}};
    const auto reg = c().register_user(a.email, "Session User", a.password);
    EXPECT_EQ(reg.result_int(), 201) << reg.body();
    a.id = Json(reg.body())["id"];
    a.tokens = sign_in(a);
    return a;
  }
  Tokens sign_in(const Account& a) { return tokens_of(c().token_form(a.email, a.password)); }

  unsigned me(const std::string& access) {
    return c().call("GET", "/api/v1/users/me", access).result_int();
  }

  void expect_invalid_grant(const HttpResponse& res) {
    EXPECT_EQ(res.result_int(), 400) << res.body();
    EXPECT_EQ(Json(res.body())["error"], "INVALID_GRANT") << res.body();
    EXPECT_EQ(res["Cache-Control"], "no-store");
  }
};

TEST_P(Sessions, SignInReturnsARefreshTokenAndTheAccessTokenNamesTheSession) {
  const Account a = new_account();
  const auto res = c().token_form(a.email, a.password);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const Json j(res.body());
  EXPECT_EQ(j["token_type"], "bearer");
  EXPECT_EQ(j["refresh_token"].size(), 43u);
  EXPECT_EQ(j.doc["refresh_expires_in"].GetInt64(), 30 * 24 * 3600);
  // The access token's payload carries sid.
  const std::string access = j["access_token"];
  const std::string payload =
      access.substr(access.find('.') + 1, access.rfind('.') - access.find('.') - 1);
  const auto claims = kit::security::base64url_decode(payload);
  ASSERT_TRUE(claims.has_value());
  EXPECT_NE(claims->find("\"sid\":\""), std::string::npos) << *claims;
  EXPECT_EQ(me(access), 200u);
}

TEST_P(Sessions, RefreshRotatesAndAReusedTokenRevokesTheSession) {
  const Account a = new_account();
  const Tokens second = tokens_of(c().refresh(a.tokens.refresh));
  EXPECT_NE(second.refresh, a.tokens.refresh);
  EXPECT_NE(second.access, a.tokens.access);
  EXPECT_EQ(me(second.access), 200u);
  EXPECT_EQ(me(a.tokens.access), 200u);  // same session: still valid
  const Tokens third = tokens_of(c().refresh(second.refresh));
  EXPECT_EQ(me(third.access), 200u);

  // The first token, spent two rotations ago, comes back: theft. The session ends for all.
  expect_invalid_grant(c().refresh(a.tokens.refresh));
  EXPECT_EQ(me(third.access), 401u);
  EXPECT_EQ(me(a.tokens.access), 401u);
  expect_invalid_grant(c().refresh(third.refresh));
  const auto line = service_->wait_for_line(
      [](const std::string& l) {
        return l.find("\"event\":\"refresh_reuse_detected\"") != std::string::npos &&
               l.find("\"level\":\"warning\"") != std::string::npos;
      },
      std::chrono::seconds(5));
  EXPECT_TRUE(line.has_value());
  // Counted by result: two rotations, one reuse, one invalid (the spent successor).
  const std::string metrics = get(port(), "/metrics").body();
  EXPECT_NE(metrics.find("refresh_total{result=\"rotated\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("refresh_total{result=\"reuse_detected\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("refresh_total{result=\"invalid\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE sessions_active gauge"), std::string::npos);
  // Other sessions of the user are untouched, and the user signs in again.
  const Tokens again = sign_in(a);
  EXPECT_EQ(me(again.access), 200u);
}

TEST_P(Sessions, UnknownAndMalformedRefreshTokensAreInvalidGrant) {
  new_account();
  expect_invalid_grant(c().refresh("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
  expect_invalid_grant(c().refresh("not a token at all"));
  // Missing: a validation error, like any missing field.
  const auto missing = c().post_json("/api/v1/auth/token", "grant_type=refresh_token", "",
                                     "application/x-www-form-urlencoded");
  EXPECT_EQ(missing.result_int(), 422) << missing.body();
  const auto other = c().post_json("/api/v1/auth/token", "grant_type=client_credentials", "",
                                   "application/x-www-form-urlencoded");
  EXPECT_EQ(other.result_int(), 422) << other.body();
  // JSON works too.
  const auto json =
      c().post_json("/api/v1/auth/token", R"({"grant_type":"refresh_token","refresh_token":"x"})");
  expect_invalid_grant(json);
}

TEST_P(Sessions, ARetryInsideTheGraceGetsTheSameSuccessor) {
  const Account a = new_account();
  const Tokens first = tokens_of(c().refresh(a.tokens.refresh));
  // The answer was "lost": the client sends the same token again.
  const Tokens retry = tokens_of(c().refresh(a.tokens.refresh));
  EXPECT_EQ(retry.refresh, first.refresh);
  EXPECT_EQ(me(retry.access), 200u);
  // The successor works once; after it is spent, the old token is theft.
  const Tokens next = tokens_of(c().refresh(first.refresh));
  expect_invalid_grant(c().refresh(a.tokens.refresh));
  EXPECT_EQ(me(next.access), 401u);
}

TEST_P(Sessions, ConcurrentRefreshesWithOneTokenNeverMakeTwoBranches) {
  for (int round = 0; round < 5; ++round) {
    const Account a = new_account();
    constexpr int kRacers = 6;
    std::latch start(kRacers);
    std::vector<std::string> successors(kRacers);
    std::vector<unsigned> statuses(kRacers);
    std::vector<std::thread> racers;
    for (int i = 0; i < kRacers; ++i) {
      racers.emplace_back([&, i] {
        start.arrive_and_wait();
        const auto res = request(
            port(),
            Request{"POST",
                    "/api/v1/auth/token",
                    {{"Content-Type", "application/x-www-form-urlencoded"}},
                    "grant_type=refresh_token&refresh_token=" + form_encode(a.tokens.refresh)});
        statuses[i] = res.result_int();
        if (res.result_int() == 200) successors[i] = Json(res.body())["refresh_token"];
      });
    }
    for (auto& t : racers) t.join();
    std::set<std::string> distinct;
    for (int i = 0; i < kRacers; ++i) {
      EXPECT_EQ(statuses[i], 200u) << "racer " << i;  // all inside the grace
      if (!successors[i].empty()) {
        distinct.insert(successors[i]);
        c().remember_token(successors[i]);
      }
    }
    EXPECT_EQ(distinct.size(), 1u) << "two live branches of one session";
    // The one successor is live.
    ASSERT_FALSE(distinct.empty());
    const Tokens next = tokens_of(c().refresh(*distinct.begin()));
    EXPECT_EQ(me(next.access), 200u);
  }
}

TEST_P(Sessions, LogoutEndsThisSessionAndScopeAllEndsEvery) {
  const Account a = new_account();
  const Tokens other = sign_in(a);
  const Tokens third = sign_in(a);
  EXPECT_EQ(c().call("POST", "/api/v1/auth/logout", a.tokens.access).result_int(), 204);
  EXPECT_EQ(me(a.tokens.access), 401u);
  expect_invalid_grant(c().refresh(a.tokens.refresh));
  EXPECT_EQ(me(other.access), 200u);
  EXPECT_EQ(c().call("POST", "/api/v1/auth/logout?scope=all", other.access).result_int(), 204);
  EXPECT_EQ(me(other.access), 401u);
  EXPECT_EQ(me(third.access), 401u);
  expect_invalid_grant(c().refresh(third.refresh));
  EXPECT_EQ(c().call("POST", "/api/v1/auth/logout?scope=some", third.access).result_int(), 401);
}

TEST_P(Sessions, TheListingShowsMyActiveSessionsNewestFirstAndWhichIsCurrent) {
  const Account a = new_account();
  Request second{"POST",
                 "/api/v1/auth/token",
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"User-Agent", "phone-app/2.0 \xc3\xa9"}},
                 "username=" + form_encode(a.email) + "&password=" + form_encode(a.password)};
  const Tokens phone = tokens_of(c().send(second));
  const auto res = c().call("GET", "/api/v1/auth/sessions", a.tokens.access);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const Json j(res.body());
  const auto& items = j.doc["items"];
  ASSERT_EQ(items.Size(), 2u) << res.body();
  EXPECT_EQ(str(items[0], "user_agent"), "phone-app/2.0 ??");
  EXPECT_FALSE(items[0]["current"].GetBool());
  EXPECT_TRUE(items[1]["current"].GetBool());
  EXPECT_EQ(str(items[0], "client_ip"), "127.0.0.1");
  std::set<std::string> keys;
  for (const auto& m : items[0].GetObject()) keys.insert(m.name.GetString());
  EXPECT_EQ(keys, (std::set<std::string>{"id", "created_at", "last_used_at", "user_agent",
                                         "client_ip", "current"}));

  // Ending the phone's session by id; someone else's or an unknown id is 404.
  const std::string phone_id = str(items[0], "id");
  const Account b = new_account();
  EXPECT_EQ(c().call("DELETE", "/api/v1/auth/sessions/" + phone_id, b.tokens.access).result_int(),
            404);
  EXPECT_EQ(me(phone.access), 200u);
  EXPECT_EQ(c().call("DELETE", "/api/v1/auth/sessions/" + phone_id, a.tokens.access).result_int(),
            204);
  EXPECT_EQ(me(phone.access), 401u);
  EXPECT_EQ(c().call("DELETE", "/api/v1/auth/sessions/" + phone_id, a.tokens.access).result_int(),
            404);
  EXPECT_EQ(c().call("DELETE", "/api/v1/auth/sessions/not-a-uuid", a.tokens.access).result_int(),
            404);
  const auto after = c().call("GET", "/api/v1/auth/sessions", a.tokens.access);
  EXPECT_EQ(Json(after.body()).doc["items"].Size(), 1u);
}

TEST_P(Sessions, APasswordChangeEndsTheOtherSessionsAndKeepsThisOne) {
  const Account a = new_account();
  const Tokens other = sign_in(a);
  const std::string new_password = unique_password();
  c().remember_password(new_password);
  const auto res = c().call(
      "PATCH", "/api/v1/users/me", a.tokens.access,
      R"({"password":")" + new_password + R"(","current_password":")" + a.password + "\"}");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(me(a.tokens.access), 200u);
  EXPECT_EQ(me(other.access), 401u);
  expect_invalid_grant(c().refresh(other.refresh));
  EXPECT_EQ(tokens_of(c().refresh(a.tokens.refresh)).refresh.size(), 43u);
}

TEST_P(Sessions, DeletingTheAccountEndsEverySession) {
  const Account a = new_account();
  const Tokens other = sign_in(a);
  EXPECT_EQ(c().call("DELETE", "/api/v1/users/me", a.tokens.access).result_int(), 204);
  EXPECT_EQ(me(other.access), 401u);
  expect_invalid_grant(c().refresh(other.refresh));
}

TEST_P(Sessions, AnAdminEndsEverySessionOfAUser) {
  const Account a = new_account();
  const Tokens other = sign_in(a);
  const std::string admin = admin_token();
  EXPECT_EQ(c().call("DELETE", "/api/v1/users/" + a.id + "/sessions", a.tokens.access).result_int(),
            403);
  EXPECT_EQ(me(a.tokens.access), 200u);
  EXPECT_EQ(c().call("DELETE", "/api/v1/users/" + a.id + "/sessions", admin).result_int(), 204);
  EXPECT_EQ(me(a.tokens.access), 401u);
  EXPECT_EQ(me(other.access), 401u);
  EXPECT_EQ(me(admin), 200u);
  EXPECT_EQ(c().call("DELETE", "/api/v1/users/0190a0a0-0000-7000-8000-0000000000ff/sessions", admin)
                .result_int(),
            404);
}

TEST_P(Sessions, ATokenWithoutASessionIsRefused) {
  const Account a = new_account();
  const std::int64_t now = unix_now();
  const std::string forged =
      sign_jwt(R"({"alg":"HS256","typ":"JWT"})", claims_json(a.id, now, now + 600), kJwtSecret);
  EXPECT_EQ(me(forged), 401u);
}

// The refresh grant spends the `auth` budget per client address, like a sign-in.
class SessionsRateLimited : public Sessions {
 protected:
  Env extra_env() override { return {{"LOGIN_RATE_LIMIT_PER_MINUTE", "3"}}; }
};

TEST_P(SessionsRateLimited, RefreshGrantsCountAgainstTheAuthPolicyPerClient) {
  const Account a = new_account();  // the sign-in spends one of three
  const Tokens second = tokens_of(c().refresh(a.tokens.refresh));
  const auto third = c().refresh(second.refresh);
  EXPECT_EQ(third.result_int(), 200) << third.body();
  bool auth_policy = false;
  for (const auto& field : third) {
    auth_policy = auth_policy || (field.name_string() == "RateLimit-Policy" &&
                                  field.value() == R"("auth";q=3;w=60)");
  }
  EXPECT_TRUE(auth_policy);
  const auto limited = c().refresh(Json(third.body())["refresh_token"]);
  EXPECT_EQ(limited.result_int(), 429) << limited.body();
  EXPECT_FALSE(std::string(limited["Retry-After"]).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, SessionsRateLimited, ::testing::Values("sqlite", "postgres"),
                         backend_name);

INSTANTIATE_TEST_SUITE_P(Backends, Sessions, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
