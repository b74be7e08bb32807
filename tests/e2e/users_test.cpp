// End-to-end: the users routes of docs/http-api.md through HTTP against the real binary, on SQLite
// and PostgreSQL.
#include <gtest/gtest.h>

#include <latch>
#include <regex>
#include <set>
#include <thread>

#include "support/users_client.hpp"

namespace e2e {
namespace {

const std::regex kLowerUuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
const std::regex kRfc3339Utc(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");

class Users : public BackendTest {
 protected:
  // The reason of the token_rejected line logged for the request with this X-Request-ID, or
  // "<none>" when none shows up.
  std::string rejection_reason(const std::string& request_id) {
    const auto line = service_->wait_for_line(
        [&](const std::string& l) {
          return l.find("\"event\":\"token_rejected\"") != std::string::npos &&
                 l.find("\"request_id\":\"" + request_id + "\"") != std::string::npos;
        },
        std::chrono::seconds(5));
    if (!line) return "<none>";
    Json j(*line);
    return j["reason"];
  }
};

void expect_error(const HttpResponse& res, unsigned status, const std::string& code) {
  EXPECT_EQ(res.result_int(), status) << res.body();
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json; charset=utf-8");
  Json j(res.body());
  EXPECT_EQ(j["error"], code) << res.body();
  EXPECT_EQ(j["request_id"], std::string(res["X-Request-ID"]));
}

// field -> code from a 422 envelope.
std::map<std::string, std::string> details(const HttpResponse& res) {
  std::map<std::string, std::string> out;
  Json j(res.body());
  if (!j.doc.HasMember("details")) return out;
  for (const auto& d : j.doc["details"].GetArray()) {
    out[str(d, "field")] = str(d, "code");
    EXPECT_NE(str(d, "message"), "<missing>");
  }
  return out;
}

void expect_user_response(const HttpResponse& res, const std::string& email,
                          const std::string& name) {
  Json j(res.body());
  ASSERT_TRUE(j.doc.IsObject());
  std::set<std::string> keys;
  for (const auto& m : j.doc.GetObject()) keys.insert(m.name.GetString());
  EXPECT_EQ(keys, (std::set<std::string>{"id", "email", "name", "created_at", "email_verified"}))
      << res.body();
  ASSERT_TRUE(j.doc["email_verified"].IsBool()) << res.body();
  EXPECT_TRUE(std::regex_match(j["id"], kLowerUuid)) << j["id"];
  EXPECT_TRUE(std::regex_match(j["created_at"], kRfc3339Utc)) << j["created_at"];
  EXPECT_EQ(j["email"], email);
  EXPECT_EQ(j["name"], name);
}

TEST_P(Users, RegisterReturns201WithLocationAndUserResponse) {
  const std::string email = unique_email("reg");
  const auto res = c().register_user(email, "Ada Lovelace", unique_password());
  ASSERT_EQ(res.result_int(), 201) << res.body();
  expect_user_response(res, email, "Ada Lovelace");
  EXPECT_EQ(std::string(res["Location"]), "/api/v1/users/" + Json(res.body())["id"]);
  EXPECT_EQ(res["Cache-Control"], "no-store");
}

TEST_P(Users, RegisterWithoutTrailingSlashToo) {
  const std::string email = unique_email("noslash");
  const auto res = c().post_json("/api/v1/users", user_json(email, "N", unique_password()));
  EXPECT_EQ(res.result_int(), 201) << res.body();
}

TEST_P(Users, EmailIsTrimmedAndLowercasedAndUniqueCaseInsensitively) {
  const std::string email = unique_email("Case");
  std::string upper = email;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const auto res = c().register_user("  " + upper + "  ", "  Trimmed Name  ", unique_password());
  ASSERT_EQ(res.result_int(), 201) << res.body();
  std::string lower = email;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  expect_user_response(res, lower, "Trimmed Name");
  expect_error(c().register_user(lower, "Other", unique_password()), 409, "CONFLICT");
  expect_error(c().register_user(email, "Other", unique_password()), 409, "CONFLICT");
}

TEST_P(Users, UnknownFieldsAreIgnoredNeverBound) {
  const std::string email = unique_email("unknown");
  const std::string password = unique_password();
  const std::string forced_id = "00000000-0000-4000-8000-000000000000";
  const auto res = c().register_user(
      email, "Mallory", password,
      R"(,"id":")" + forced_id +
          R"(","role":"admin","created_at":"2000-01-01T00:00:00Z","is_admin":true)");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  Json j(res.body());
  EXPECT_NE(j["id"], forced_id);
  EXPECT_NE(j["created_at"].substr(0, 4), "2000");
  const std::string token = c().login(email, password);
  expect_error(c().call("GET", "/api/v1/users", token), 403, "FORBIDDEN");
}

TEST_P(Users, ValidationReportsEveryFieldAtOnce) {
  const auto res =
      c().post_json("/api/v1/users/", R"({"email":"not-an-email","name":"","password":"short"})");
  expect_error(res, 422, "VALIDATION_ERROR");
  EXPECT_EQ(details(res),
            (std::map<std::string, std::string>{
                {"email", "invalid_email"}, {"name", "too_short"}, {"password", "too_short"}}));
  const auto missing = c().post_json("/api/v1/users/", "{}");
  EXPECT_EQ(details(missing),
            (std::map<std::string, std::string>{
                {"email", "missing"}, {"name", "missing"}, {"password", "missing"}}));
  const auto types = c().post_json("/api/v1/users/", R"({"email":5,"name":[],"password":null})");
  EXPECT_EQ(details(types), (std::map<std::string, std::string>{{"email", "invalid_type"},
                                                                {"name", "invalid_type"},
                                                                {"password", "invalid_type"}}));
}

TEST_P(Users, FieldRulesFromTheSpec) {
  auto code = [&](const std::string& email, const std::string& name, const std::string& pw,
                  const std::string& field) {
    return details(c().post_json("/api/v1/users/", user_json(email, name, pw)))[field];
  };
  const std::string ok_pw = unique_password();
  EXPECT_EQ(code("a@localhost", "N", ok_pw, "email"), "invalid_email");
  EXPECT_EQ(code("a@b@example.com", "N", ok_pw, "email"), "invalid_email");
  EXPECT_EQ(code("@example.com", "N", ok_pw, "email"), "invalid_email");
  EXPECT_EQ(code("a@-x.example.com", "N", ok_pw, "email"), "invalid_email");
  EXPECT_EQ(code(std::string(250, 'a') + "@example.com", "N", ok_pw, "email"), "too_long");
  EXPECT_EQ(code(unique_email(), std::string(101, 'n'), ok_pw, "name"), "too_long");
  EXPECT_EQ(code(unique_email(), "   ", ok_pw, "name"), "too_short");
  EXPECT_EQ(code(unique_email(), "bell\x07", ok_pw, "name"), "invalid_value");
  EXPECT_EQ(code(unique_email(), "N", "1234567", "password"), "too_short");
  EXPECT_EQ(code(unique_email(), "N", std::string(129, 'p'), "password"), "too_long");
  // Characters, not bytes: 100 two-byte letters and 128 emoji are within the limits.
  std::string umlauts;
  for (int i = 0; i < 100; ++i) umlauts += "\xc3\xbc";
  std::string emoji_pw = "Pw-secret-";
  while (emoji_pw.size() < 10 + 118 * 4) emoji_pw += "\xf0\x9f\x94\x91";
  const auto res = c().register_user(unique_email("utf8"), umlauts, emoji_pw);
  EXPECT_EQ(res.result_int(), 201) << res.body();
}

TEST_P(Users, BodyParsingErrors) {
  expect_error(c().post_json("/api/v1/users/", user_json(unique_email(), "N", unique_password()),
                             "", "text/plain"),
               415, "UNSUPPORTED_MEDIA_TYPE");
  expect_error(c().post_json("/api/v1/users/", R"({"email":)"), 400, "BAD_REQUEST");
  expect_error(
      c().post_json("/api/v1/users/",
                    "{\"email\":\"\xff@example.com\",\"name\":\"N\",\"password\":\"12345678\"}"),
      400, "BAD_REQUEST");
  expect_error(
      c().post_json("/api/v1/users/", R"({"email":"a@example.com","email":"b@example.com"})"), 400,
      "BAD_REQUEST");
  expect_error(c().post_json("/api/v1/users/", "[1,2]"), 422, "VALIDATION_ERROR");
}

TEST_P(Users, MeReturnsTheCurrentUser) {
  const std::string email = unique_email("me");
  const auto [id, token] = c().new_user(email, unique_password(), "Me Myself");
  const auto res = c().call("GET", "/api/v1/users/me", token);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  expect_user_response(res, email, "Me Myself");
  EXPECT_EQ(Json(res.body())["id"], id);
  EXPECT_EQ(c().call("GET", "/api/v1/users/me/", token).result_int(), 200);
}

TEST_P(Users, PatchNameNeedsNoPassword) {
  const std::string email = unique_email("patch");
  const auto [id, token] = c().new_user(email, unique_password());
  const auto res = c().call("PATCH", "/api/v1/users/me", token, R"({"name":"  New Name "})");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  expect_user_response(res, email, "New Name");
  EXPECT_EQ(Json(c().call("GET", "/api/v1/users/me", token).body())["name"], "New Name");
  expect_error(c().call("PATCH", "/api/v1/users/me", token, R"({"name":""})"), 422,
               "VALIDATION_ERROR");
  EXPECT_EQ(c().call("PATCH", "/api/v1/users/me", token, "{}").result_int(), 200);
}

TEST_P(Users, PatchEmailNeedsTheRightCurrentPassword) {
  const std::string email = unique_email("chmail");
  const std::string password = unique_password();
  const auto [id, token] = c().new_user(email, password);
  const std::string new_email = unique_email("newmail");
  const auto missing =
      c().call("PATCH", "/api/v1/users/me", token, R"({"email":")" + new_email + R"("})");
  expect_error(missing, 422, "VALIDATION_ERROR");
  EXPECT_EQ(details(missing)["current_password"], "missing");
  const std::string wrong = unique_password();
  c().remember_password(wrong);
  expect_error(
      c().call("PATCH", "/api/v1/users/me", token,
               R"({"email":")" + new_email + R"(","current_password":")" + wrong + R"("})"),
      403, "FORBIDDEN");
  const auto ok =
      c().call("PATCH", "/api/v1/users/me", token,
               R"({"email":"  )" + new_email + R"( ","current_password":")" + password + R"("})");
  ASSERT_EQ(ok.result_int(), 200) << ok.body();
  EXPECT_EQ(Json(ok.body())["email"], new_email);
  EXPECT_EQ(c().token_form(new_email, password).result_int(), 200);
  EXPECT_EQ(c().token_form(email, password).result_int(), 401);
}

TEST_P(Users, PatchEmailTakenIs409) {
  const std::string taken = unique_email("taken");
  c().register_user(taken, "T", unique_password());
  const std::string password = unique_password();
  const auto [id, token] = c().new_user(unique_email("mover"), password);
  std::string upper = taken;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  expect_error(c().call("PATCH", "/api/v1/users/me", token,
                        R"({"email":")" + upper + R"(","current_password":")" + password + R"("})"),
               409, "CONFLICT");
}

TEST_P(Users, PatchPasswordReplacesTheOldOne) {
  const std::string email = unique_email("chpw");
  const std::string old_pw = unique_password();
  const std::string new_pw = unique_password();
  c().remember_password(new_pw);
  const auto [id, token] = c().new_user(email, old_pw);
  expect_error(c().call("PATCH", "/api/v1/users/me", token, R"({"password":")" + new_pw + R"("})"),
               422, "VALIDATION_ERROR");
  const auto ok =
      c().call("PATCH", "/api/v1/users/me", token,
               R"({"password":")" + new_pw + R"(","current_password":")" + old_pw + R"("})");
  ASSERT_EQ(ok.result_int(), 200) << ok.body();
  EXPECT_EQ(c().token_form(email, old_pw).result_int(), 401);
  EXPECT_EQ(c().token_form(email, new_pw).result_int(), 200);
  expect_error(c().call("PATCH", "/api/v1/users/me", token,
                        R"({"password":"short","current_password":")" + new_pw + R"("})"),
               422, "VALIDATION_ERROR");
}

TEST_P(Users, DeleteMeThenItsTokensGet401) {
  const std::string email = unique_email("del");
  const std::string password = unique_password();
  const auto [id, token] = c().new_user(email, password);
  const auto del = c().call("DELETE", "/api/v1/users/me", token);
  EXPECT_EQ(del.result_int(), 204) << del.body();
  EXPECT_TRUE(del.body().empty());
  const auto me = c().call("GET", "/api/v1/users/me", token);
  expect_error(me, 401, "UNAUTHORIZED");
  EXPECT_EQ(me["WWW-Authenticate"], R"(Bearer error="invalid_token")");
  expect_error(c().call("DELETE", "/api/v1/users/me", token), 401, "UNAUTHORIZED");
  expect_error(c().token_form(email, password), 401, "INVALID_CREDENTIALS");
  // The email is free again.
  EXPECT_EQ(c().register_user(email, "Again", unique_password()).result_int(), 201);
}

TEST_P(Users, GetByIdSelfOr404ForEveryoneElse) {
  const auto [alice_id, alice] = c().new_user(unique_email("alice"), unique_password());
  const auto [bob_id, bob] = c().new_user(unique_email("bob"), unique_password());
  EXPECT_EQ(c().call("GET", "/api/v1/users/" + alice_id, alice).result_int(), 200);
  const auto other = c().call("GET", "/api/v1/users/" + bob_id, alice);
  expect_error(other, 404, "NOT_FOUND");
  EXPECT_EQ(Json(other.body())["message"], "User with identifier '" + bob_id + "' not found");
  const std::string unknown = "0190a0a0-0000-7000-8000-000000000000";
  EXPECT_EQ(Json(c().call("GET", "/api/v1/users/" + unknown, alice).body())["message"],
            "User with identifier '" + unknown + "' not found");
  expect_error(c().call("GET", "/api/v1/users/" + bob_id), 401, "UNAUTHORIZED");
}

TEST_P(Users, NotFoundMessageEchoesTheIdSafely) {
  const auto [id, token] = c().new_user(unique_email("echo"), unique_password());
  const auto quoted = c().call("GET", "/api/v1/users/%22%3Cscript%3E%5C", token);
  expect_error(quoted, 404, "NOT_FOUND");
  EXPECT_EQ(Json(quoted.body())["message"], "User with identifier '\"<script>\\' not found");
  const std::string long_id(300, 'x');
  const auto cut = c().call("GET", "/api/v1/users/" + long_id, token);
  EXPECT_EQ(Json(cut.body())["message"],
            "User with identifier '" + std::string(100, 'x') + "' not found");
}

TEST_P(Users, AdminSeesAnyUserAndTheList) {
  const auto [uid, user_token] = c().new_user(unique_email("plain"), unique_password(), "Plain");
  expect_error(c().call("GET", "/api/v1/users", user_token), 403, "FORBIDDEN");
  expect_error(c().call("GET", "/api/v1/users"), 401, "UNAUTHORIZED");
  const std::string admin = admin_token();
  const auto got = c().call("GET", "/api/v1/users/" + uid, admin);
  ASSERT_EQ(got.result_int(), 200) << got.body();
  EXPECT_EQ(Json(got.body())["name"], "Plain");
  const auto list = c().call("GET", "/api/v1/users/", admin);
  ASSERT_EQ(list.result_int(), 200) << list.body();
  Json j(list.body());
  ASSERT_TRUE(j.doc["items"].IsArray());
  EXPECT_GE(j.doc["items"].Size(), 2u);
  EXPECT_LE(j.doc["items"].Size(), 50u);
  EXPECT_TRUE(j.doc.HasMember("next_cursor"));
  for (const auto& item : j.doc["items"].GetArray()) {
    EXPECT_EQ(item.MemberCount(), 5u);
    EXPECT_FALSE(item.HasMember("password_hash"));
    EXPECT_FALSE(item.HasMember("role"));
  }
}

// GET /users/{id} loads the caller and the target in one statement; every outcome
// must stay what it was when the caller was loaded first and the target second.
TEST_P(Users, GetByIdGivesEachCallerWhatItMaySee) {
  const auto [alice_id, alice] = c().new_user(unique_email("alice"), unique_password(), "Alice");
  const auto [bob_id, bob] = c().new_user(unique_email("bob"), unique_password(), "Bob");
  const std::string admin = admin_token();
  // The caller itself: exactly what /me says.
  const auto self = c().call("GET", "/api/v1/users/" + alice_id, alice);
  ASSERT_EQ(self.result_int(), 200) << self.body();
  EXPECT_EQ(self.body(), c().call("GET", "/api/v1/users/me", alice).body());
  // An admin: any existing user, by its id in any case, with or without the trailing slash.
  std::string upper = bob_id;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const std::string& target : {bob_id, upper, bob_id + "/"}) {
    const auto got = c().call("GET", "/api/v1/users/" + target, admin);
    ASSERT_EQ(got.result_int(), 200) << target << ": " << got.body();
    EXPECT_EQ(got.body(), c().call("GET", "/api/v1/users/me", bob).body()) << target;
  }
  // Everything else is the one 404, whether the id exists or not.
  const std::string unknown = "0190a0a0-0000-7000-8000-0000000000ff";
  const std::vector<std::pair<std::string, std::string>> refused{
      {alice, bob_id}, {alice, unknown}, {admin, unknown}, {admin, "not-a-uuid"}, {bob, "me2"}};
  for (const auto& [token, target] : refused) {
    const auto res = c().call("GET", "/api/v1/users/" + target, token);
    expect_error(res, 404, "NOT_FOUND");
    EXPECT_EQ(Json(res.body())["message"], "User with identifier '" + target + "' not found");
  }
}

// The 401 for a token whose user is gone, and its log line, are those of every other route:
// the route must never answer 200 or 404 for such a caller, whatever it asks for.
TEST_P(Users, GetByIdWithACallerThatNoLongerExistsIs401) {
  const auto [bob_id, bob] = c().new_user(unique_email("bob"), unique_password(), "Bob");
  // A user deleted between the token's issue and the request.
  const auto [gone_id, gone] = c().new_user(unique_email("gone"), unique_password());
  ASSERT_EQ(c().call("DELETE", "/api/v1/users/me", gone).result_int(), 204);
  // An admin deleted the same way: its token must not read anyone any more.
  const std::string admin = admin_token();
  const std::string admin_id = Json(c().call("GET", "/api/v1/users/me", admin).body())["id"];
  ASSERT_EQ(c().call("GET", "/api/v1/users/" + bob_id, admin).result_int(), 200);
  ASSERT_EQ(c().call("DELETE", "/api/v1/users/me", admin).result_int(), 204);
  // A correctly signed token for an id (and a session) that never existed.
  const std::int64_t now = unix_now();
  const std::string never_id = "0190a0a0-0000-7000-8000-0000000000ee";
  std::string never_claims = claims_json(never_id, now, now + 600);
  never_claims.insert(never_claims.size() - 1, R"(,"sid":"0190a0a0-0000-7000-8000-0000000000ef")");
  const std::string never = sign_jwt(R"({"alg":"HS256","typ":"JWT"})", never_claims, kJwtSecret);
  c().remember_token(never);

  const auto reference = c().call("GET", "/api/v1/users/me", gone);
  expect_error(reference, 401, "UNAUTHORIZED");
  const std::string expected_message = Json(reference.body())["message"];
  std::vector<std::string> request_ids;
  for (const auto& [token, own_id] : std::vector<std::pair<std::string, std::string>>{
           {gone, gone_id}, {admin, admin_id}, {never, never_id}}) {
    for (const std::string& target : {own_id, bob_id, std::string("not-a-uuid")}) {
      const auto res = c().call("GET", "/api/v1/users/" + target, token);
      expect_error(res, 401, "UNAUTHORIZED");
      EXPECT_EQ(res["WWW-Authenticate"], R"(Bearer error="invalid_token")") << target;
      EXPECT_EQ(Json(res.body())["message"], expected_message) << target;
      request_ids.emplace_back(res["X-Request-ID"]);
    }
  }
  for (const std::string& id : request_ids) {
    EXPECT_EQ(rejection_reason(id), "session_ended") << "request " << id;
  }
}

TEST_P(Users, GetByIdWithoutOrWithABadTokenIs401LikeMe) {
  const auto [bob_id, bob] = c().new_user(unique_email("bob"), unique_password());
  const auto anonymous = c().call("GET", "/api/v1/users/" + bob_id);
  expect_error(anonymous, 401, "UNAUTHORIZED");
  EXPECT_EQ(anonymous["WWW-Authenticate"], "Bearer");
  EXPECT_EQ(Json(anonymous.body())["message"],
            Json(c().call("GET", "/api/v1/users/me").body())["message"]);
  const std::int64_t now = unix_now();
  const std::string expired = sign_jwt(R"({"alg":"HS256","typ":"JWT"})",
                                       claims_json(bob_id, now - 7200, now - 60), kJwtSecret);
  c().remember_token(expired);
  for (const auto& [token, reason] : std::vector<std::pair<std::string, std::string>>{
           {"garbage", "malformed"}, {expired, "expired"}}) {
    const auto res = c().call("GET", "/api/v1/users/" + bob_id, token);
    expect_error(res, 401, "UNAUTHORIZED");
    EXPECT_EQ(res["WWW-Authenticate"], R"(Bearer error="invalid_token")");
    EXPECT_EQ(rejection_reason(std::string(res["X-Request-ID"])), reason);
  }
}

TEST_P(Users, ListPaginatesNewestFirstWithoutGapsOrRepeats) {
  const std::string admin = admin_token();
  std::vector<std::string> mine;
  for (int i = 0; i < 5; ++i) {
    mine.push_back(
        Json(c().register_user(unique_email("page"), "P", unique_password()).body())["id"]);
  }
  // Walk pages of 2 until the five newest users (ours, newer than anything else of this test)
  // have been seen: they must come in reverse creation order, with no repeats.
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    const auto res = c().call(
        "GET", "/api/v1/users?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), admin);
    ASSERT_EQ(res.result_int(), 200) << res.body();
    Json j(res.body());
    EXPECT_LE(j.doc["items"].Size(), 2u);
    for (const auto& item : j.doc["items"].GetArray()) seen.push_back(str(item, "id"));
    if (j.doc["next_cursor"].IsNull()) break;
    cursor = j["next_cursor"];
  }
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "an item repeated across pages";
  std::vector<std::size_t> positions;
  for (const auto& id : mine) {
    const auto it = std::find(seen.begin(), seen.end(), id);
    ASSERT_NE(it, seen.end()) << id;
    positions.push_back(static_cast<std::size_t>(it - seen.begin()));
  }
  for (std::size_t i = 1; i < positions.size(); ++i) {
    EXPECT_LT(positions[i], positions[i - 1]) << "newest first";
  }
}

TEST_P(Users, ListRejectsBadLimitAndCursor) {
  const std::string admin = admin_token();
  for (const char* q : {"limit=0", "limit=101", "limit=abc", "limit=-1"}) {
    const auto res = c().call("GET", std::string("/api/v1/users?") + q, admin);
    expect_error(res, 422, "VALIDATION_ERROR");
    EXPECT_EQ(details(res).count("limit"), 1u) << q;
  }
  EXPECT_EQ(c().call("GET", "/api/v1/users?limit=100", admin).result_int(), 200);
  const auto bad_cursor = c().call("GET", "/api/v1/users?cursor=bm90LWEtY3Vyc29y", admin);
  expect_error(bad_cursor, 422, "VALIDATION_ERROR");
  EXPECT_EQ(details(bad_cursor)["cursor"], "invalid_value");
  expect_error(c().call("GET", "/api/v1/users?cursor=%zz", admin), 400, "BAD_REQUEST");
}

// A `\udc00` escape decodes to ED B0 80, which is not UTF-8: PostgreSQL refused it with a 500
// and SQLite stored it. It is a malformed body (400) on every route that reads JSON.
TEST_P(Users, EscapedLoneSurrogatesAre400NeverA500) {
  const std::string password = unique_password();
  const std::string email = unique_email("surrogate");
  c().remember_password(password);
  const auto reg =
      c().post_json("/api/v1/users/", R"({"email":")" + email +
                                          R"(","name":"x\udc00y","password":")" + password + "\"}");
  expect_error(reg, 400, "BAD_REQUEST");
  expect_error(c().post_json("/api/v1/auth/token",
                             R"({"username":"a\udc00@x.io","password":")" + password + "\"}"),
               400, "BAD_REQUEST");
  // A valid pair (U+1F600) is stored and returned as the character.
  const auto ok = c().post_json(
      "/api/v1/users/",
      R"({"email":")" + email + R"(","name":"smile \ud83d\ude00","password":")" + password + "\"}");
  ASSERT_EQ(ok.result_int(), 201) << ok.body();
  EXPECT_EQ(Json(ok.body())["name"], "smile \xF0\x9F\x98\x80");
  const std::string token = c().login(email, password);
  expect_error(c().call("PATCH", "/api/v1/users/me", token, R"({"name":"\udfff"})"), 400,
               "BAD_REQUEST");
  expect_error(c().call("PATCH", "/api/v1/users/me", token, "{\"\\udc00\":\"k\"}"), 400,
               "BAD_REQUEST");
  const auto me = c().call("GET", "/api/v1/users/me", token);
  EXPECT_EQ(Json(me.body())["name"], "smile \xF0\x9F\x98\x80");
}

// A cursor is client input: a time no database holds (year 0000) was a 500 on PostgreSQL and a
// 200 on SQLite; it is a 422 on both. Both ends of the accepted range still work.
TEST_P(Users, ACursorOutsideTheStorableRangeIs422OnEveryBackend) {
  const std::string admin = admin_token();
  const std::string id = "00000000-0000-4000-8000-000000000000";
  for (const char* time : {"0000-01-01T00:00:00Z", "0000-12-31T23:59:59.999999Z"}) {
    const std::string cursor = kit::security::base64url_encode(std::string(time) + "|" + id);
    const auto res = c().call("GET", "/api/v1/users?cursor=" + cursor, admin);
    expect_error(res, 422, "VALIDATION_ERROR");
    EXPECT_EQ(details(res)["cursor"], "invalid_value") << time;
  }
  for (const char* time : {"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"}) {
    const std::string cursor = kit::security::base64url_encode(std::string(time) + "|" + id);
    EXPECT_EQ(c().call("GET", "/api/v1/users?cursor=" + cursor, admin).result_int(), 200) << time;
  }
}

// One normalization on every backend: ASCII letters fold, others are kept as sent.
TEST_P(Users, EmailCaseFoldsAsciiOnlyOnEveryBackend) {
  const std::string unique = unique_email("u");
  const std::string local = unique.substr(0, unique.find('@'));
  const std::string upper = local + "\xC3\x9CN\xC3\x8F@x.io";  // ...ÜNÏ@x.io
  const std::string lower = local + "\xC3\xBCn\xC3\xAF@x.io";  // ...ünï@x.io
  const std::string p1 = unique_password();
  const std::string p2 = unique_password();
  const auto a = c().register_user(upper, "Upper", p1);
  ASSERT_EQ(a.result_int(), 201) << a.body();
  EXPECT_EQ(Json(a.body())["email"], local + "\xC3\x9Cn\xC3\x8F@x.io");
  const auto b = c().register_user(lower, "Lower", p2);
  ASSERT_EQ(b.result_int(), 201) << b.body() << " (a second account, not a conflict)";
  EXPECT_NE(Json(a.body())["id"], Json(b.body())["id"]);
  // Login in any ASCII case reaches the right one of the two.
  EXPECT_EQ(c().token_form(local + "\xC3\x9Cn\xC3\x8F@X.IO", p1).result_int(), 200);
  EXPECT_EQ(c().token_form(lower, p2).result_int(), 200);
  EXPECT_EQ(c().token_form(lower, p1).result_int(), 401);
  // ASCII case alone is still one account.
  expect_error(c().register_user(local + "\xC3\xBCN\xC3\xAF@X.io", "Again", unique_password()), 409,
               "CONFLICT");
}

TEST_P(Users, TwentyConcurrentRegistrationsOfOneEmailGiveOne201) {
  const std::string email = unique_email("race");
  const std::string body = user_json(email, "Racer", unique_password());
  std::latch start(20);
  std::vector<int> statuses(20);
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      try {
        statuses[static_cast<std::size_t>(i)] =
            request(port(),
                    Request{"POST", "/api/v1/users/", {{"Content-Type", "application/json"}}, body})
                .result_int();
      } catch (const std::exception&) {
        statuses[static_cast<std::size_t>(i)] = -1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 19);
}

TEST_P(Users, CreateAdminCliFromStdinOrEnvAndPromotes) {
  // A fresh admin from ADMIN_PASSWORD.
  const std::string email = unique_email("cliadmin");
  const std::string password = unique_password();
  c().remember_password(password);
  Env env = env_;
  env["ADMIN_PASSWORD"] = password;
  auto r = run_command({"create-admin", "--email", "  " + email, "--name", "Cli Admin"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("created admin " + email), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(password), std::string::npos);
  const std::string admin = c().login(email, password);
  EXPECT_EQ(c().call("GET", "/api/v1/users", admin).result_int(), 200);

  // An existing user is promoted (stdin password; name and password unchanged).
  const std::string user_email = unique_email("promote");
  const std::string user_pw = unique_password();
  const auto [id, user_token] = c().new_user(user_email, user_pw, "Promoted");
  EXPECT_EQ(c().call("GET", "/api/v1/users", user_token).result_int(), 403);
  const std::string other_pw = unique_password();
  c().remember_password(other_pw);
  r = run_command({"create-admin", "--email", user_email, "--name", "Ignored"}, env_,
                  std::chrono::seconds(30), other_pw + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("promoted admin"), std::string::npos) << r.out;
  EXPECT_EQ(c().call("GET", "/api/v1/users", user_token).result_int(), 200);
  EXPECT_EQ(c().token_form(user_email, user_pw).result_int(), 200);

  // Validated like a registration; usage errors exit 2.
  r = run_command({"create-admin", "--email", "not-an-email", "--name", "X"}, env);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("email"), std::string::npos);
  r = run_command({"create-admin", "--email", unique_email(), "--name", "X"}, env_,
                  std::chrono::seconds(30), "short\n");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("password"), std::string::npos);
  r = run_command({"create-admin", "--email", unique_email()}, env);
  EXPECT_EQ(r.exit_code, 2) << "--name is required";
}

// The acceptance walk-through: register, form token, /me, rename, delete, 401.
TEST_P(Users, NewUserJourney) {
  const std::string email = unique_email("journey");
  const std::string password = unique_password();
  const auto reg = c().register_user(email, "Journey", password);
  ASSERT_EQ(reg.result_int(), 201);
  const auto tok = c().token_form(email, password, "&grant_type=password");
  ASSERT_EQ(tok.result_int(), 200) << tok.body();
  const std::string token = Json(tok.body())["access_token"];
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", token).result_int(), 200);
  EXPECT_EQ(
      Json(c().call("PATCH", "/api/v1/users/me", token, R"({"name":"Renamed"})").body())["name"],
      "Renamed");
  EXPECT_EQ(c().call("DELETE", "/api/v1/users/me", token).result_int(), 204);
  EXPECT_EQ(c().call("GET", "/api/v1/users/me", token).result_int(), 401);
}

INSTANTIATE_TEST_SUITE_P(Backends, Users, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
