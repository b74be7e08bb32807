// Request/response schemas of docs/http-api.md: every failing field at once, the exact rules for
// email, name and password, unknown fields ignored, and a UserResponse that cannot carry the hash.
#include "service/schemas/users.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "kit/errors/app_error.hpp"
#include "service/schemas/auth.hpp"

namespace {

using namespace user_service::schemas;
using kit::errors::ValidationError;

rapidjson::Document json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

// field -> code of a failing UserCreate, empty when it validated.
std::map<std::string, std::string> create_errors(const std::string& body) {
  std::map<std::string, std::string> out;
  try {
    UserCreate::from_json(json(body));
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.status(), 422u);
    EXPECT_EQ(e.code(), "VALIDATION_ERROR");
    for (const auto& d : e.details()) {
      EXPECT_FALSE(d.message.empty());
      out[d.field] = d.code;
    }
  }
  return out;
}

std::string body(const std::string& email, const std::string& name, const std::string& password) {
  return R"({"email":")" + email + R"(","name":")" + name + R"(","password":")" + password + "\"}";
}

TEST(UserCreate, ValidBodyIsNormalized) {
  const auto u = UserCreate::from_json(
      json(R"({"email":"  Ada@Example.COM ","name":"  Ada Lovelace ","password":" pass word "})"));
  EXPECT_EQ(u.email, "ada@example.com");
  EXPECT_EQ(u.name, "Ada Lovelace");
  EXPECT_EQ(u.password, " pass word ") << "passwords are never trimmed";
}

TEST(UserCreate, ReportsEveryFailingFieldAtOnce) {
  const auto errors = create_errors(R"({"email":"nope","name":"","password":"short"})");
  EXPECT_EQ(errors,
            (std::map<std::string, std::string>{
                {"email", "invalid_email"}, {"name", "too_short"}, {"password", "too_short"}}));
}

TEST(UserCreate, MissingAndWrongTypes) {
  EXPECT_EQ(create_errors("{}"),
            (std::map<std::string, std::string>{
                {"email", "missing"}, {"name", "missing"}, {"password", "missing"}}));
  EXPECT_EQ(
      create_errors(R"({"email":1,"name":null,"password":["x"]})"),
      (std::map<std::string, std::string>{
          {"email", "invalid_type"}, {"name", "invalid_type"}, {"password", "invalid_type"}}));
}

TEST(UserCreate, BodyMustBeAnObject) {
  EXPECT_EQ(create_errors("[]"), (std::map<std::string, std::string>{{"body", "invalid_type"}}));
  EXPECT_EQ(create_errors("\"x\""), (std::map<std::string, std::string>{{"body", "invalid_type"}}));
}

TEST(UserCreate, UnknownFieldsAreIgnored) {
  const auto u = UserCreate::from_json(json(
      R"({"email":"a@example.com","name":"A","password":"12345678","role":"admin","id":"x","created_at":"1970"})"));
  EXPECT_EQ(u.email, "a@example.com");
}

TEST(UserCreate, EmailLengthLimitIs254) {
  const std::string local(64, 'a');
  const std::string domain =
      std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(57, 'd') + ".com";
  const std::string e254 = local + "@" + domain;
  ASSERT_EQ(e254.size(), 254u);
  EXPECT_TRUE(create_errors(body(e254, "A", "12345678")).empty()) << e254;
  EXPECT_EQ(create_errors(body("a" + e254, "A", "12345678"))["email"], "too_long");
}

TEST(UserCreate, NameRules) {
  EXPECT_EQ(create_errors(body("a@example.com", "   ", "12345678"))["name"], "too_short");
  EXPECT_TRUE(create_errors(body("a@example.com", std::string(100, 'x'), "12345678")).empty());
  EXPECT_EQ(create_errors(body("a@example.com", std::string(101, 'x'), "12345678"))["name"],
            "too_long");
  std::string hundred_umlauts;
  for (int i = 0; i < 100; ++i) hundred_umlauts += "\xc3\xbc";
  EXPECT_TRUE(create_errors(body("a@example.com", hundred_umlauts, "12345678")).empty())
      << "100 code points are fine even though 200 bytes";
  EXPECT_EQ(create_errors(body("a@example.com", "A\\u0007B", "12345678"))["name"], "invalid_value");
  EXPECT_EQ(create_errors(body("a@example.com", "A\\nB", "12345678"))["name"], "invalid_value");
}

TEST(UserCreate, PasswordRulesCountCharacters) {
  EXPECT_EQ(create_errors(body("a@example.com", "A", "1234567"))["password"], "too_short");
  EXPECT_TRUE(create_errors(body("a@example.com", "A", "12345678")).empty());
  EXPECT_TRUE(create_errors(body("a@example.com", "A", std::string(128, 'p'))).empty());
  EXPECT_EQ(create_errors(body("a@example.com", "A", std::string(129, 'p')))["password"],
            "too_long");
  std::string eight_emoji;
  for (int i = 0; i < 8; ++i) eight_emoji += "\xf0\x9f\x98\x80";
  EXPECT_TRUE(create_errors(body("a@example.com", "A", eight_emoji)).empty());
  EXPECT_TRUE(create_errors(body("a@example.com", "A", "        ")).empty())
      << "no composition rules";
}

TEST(UserUpdate, EverythingOptional) {
  const auto u = UserUpdate::from_json(json("{}"));
  EXPECT_FALSE(u.name || u.email || u.password || u.current_password);
  const auto v = UserUpdate::from_json(json(R"({"name":" New ","email":"X@Y.ORG"})"));
  EXPECT_EQ(v.name, "New");
  EXPECT_EQ(v.email, "x@y.org");
  try {
    UserUpdate::from_json(json(R"({"name":"","email":"bad","password":"1"})"));
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.details().size(), 3u);
  }
}

TEST(ListUsersQuery, DefaultsAndBounds) {
  kit::http::FormFields none;
  const auto q = ListUsersQuery::from_query(none);
  EXPECT_EQ(q.limit, 50u);
  EXPECT_FALSE(q.cursor);
  kit::http::FormFields bad;
  bad.add("limit", "0");
  EXPECT_THROW(ListUsersQuery::from_query(bad), ValidationError);
}

TEST(UserResponse, SerializesExactlyFourFields) {
  user_service::domain::User user;
  user.id = "0190a0a0-0000-7000-8000-000000000000";
  user.email = "a@example.com";
  user.name = "A \"quoted\"";
  user.password_hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
  user.role = user_service::domain::Role::admin;
  user.created_at = user_service::domain::Timestamp(std::chrono::seconds(1'700'000'000));
  const std::string out = UserResponse::from(user).to_json();
  EXPECT_EQ(out, R"({"id":"0190a0a0-0000-7000-8000-000000000000","email":"a@example.com",)"
                 R"("name":"A \"quoted\"","created_at":"2023-11-14T22:13:20.000000Z",)"
                 R"("email_verified":false})");
  EXPECT_EQ(out.find("argon2"), std::string::npos);
  EXPECT_EQ(out.find("admin"), std::string::npos);
  user.email_verified = true;
  EXPECT_EQ(UserResponse::to_json(user), R"({"id":"0190a0a0-0000-7000-8000-000000000000",)"
                                         R"("email":"a@example.com","name":"A \"quoted\"",)"
                                         R"("created_at":"2023-11-14T22:13:20.000000Z",)"
                                         R"("email_verified":true})");
  struct FiveFields {
    std::string id, email, name;
    user_service::domain::Timestamp created_at;
    bool email_verified;
  };
  static_assert(sizeof(UserResponse) == sizeof(FiveFields),
                "UserResponse must stay five fields: never the hash");
}

TEST(UserListResponse, NullCursorOnLastPage) {
  UserListResponse page;
  EXPECT_EQ(page.to_json(), R"({"items":[],"next_cursor":null})");
  page.next_cursor = "abc";
  EXPECT_EQ(page.to_json(), R"({"items":[],"next_cursor":"abc"})");
}

TEST(Schemas, DescribeTheirFields) {
  for (const SchemaSpec* s : {&UserCreate::schema(), &UserUpdate::schema(), &UserResponse::schema(),
                              &UserListResponse::schema(), &TokenRequest::schema(),
                              &TokenResponse::schema(), &ListUsersQuery::schema()}) {
    EXPECT_FALSE(s->name.empty());
    EXPECT_FALSE(s->fields.empty());
    for (const auto& f : s->fields) {
      EXPECT_FALSE(f.name.empty()) << s->name;
      EXPECT_FALSE(f.description.empty()) << s->name << "." << f.name;
    }
  }
  EXPECT_TRUE(UserCreate::kFields[2].write_only);
  EXPECT_EQ(UserCreate::kFields[2].min_length, 8u);
  EXPECT_EQ(UserCreate::kFields[2].max_length, 128u);
  EXPECT_FALSE(UserUpdate::kFields[0].required);
}

TEST(TokenRequest, FormAndJson) {
  kit::http::FormFields form;
  form.add("username", " Ada@Example.com ");
  form.add("password", "pw");
  form.add("grant_type", "password");
  const auto t = TokenRequest::from_form(form);
  EXPECT_EQ(t.username, "Ada@Example.com");
  EXPECT_EQ(t.password, "pw");
  kit::http::FormFields other;
  other.add("username", "a");
  other.add("password", "b");
  other.add("grant_type", "client_credentials");
  try {
    TokenRequest::from_form(other);
    FAIL();
  } catch (const ValidationError& e) {
    ASSERT_EQ(e.details().size(), 1u);
    EXPECT_EQ(e.details()[0].field, "grant_type");
    EXPECT_EQ(e.details()[0].code, "invalid_value");
  }
  try {
    TokenRequest::from_json(json("{}"));
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.details().size(), 2u);
  }
}

}  // namespace
