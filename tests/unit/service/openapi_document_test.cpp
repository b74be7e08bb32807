// The User Service's document (api/openapi): built from the real route table and the schema
// types, so the constraints it states are the FieldSpec tables validation enforces.
#include "service/api/openapi.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>

#include "kit/config/source.hpp"
#include "kit/health/registry.hpp"
#include "service/api/routes/health.hpp"
#include "service/database.hpp"
#include "service/schemas/auth.hpp"
#include "service/schemas/json_schema.hpp"
#include "service/schemas/users.hpp"
#include "service/users_module.hpp"

namespace {

using user_service::Settings;
namespace schemas = user_service::schemas;

Settings settings(std::map<std::string, std::string> env = {}) {
  env.emplace("DATABASE_URL", "sqlite://:memory:");
  env.emplace("JWT_SECRET", "unit-test-secret-that-is-long-enough-0123456789");
  env.emplace("PASSWORD_HASH_MEMORY_KIB", "8");
  env.emplace("PASSWORD_HASH_ITERATIONS", "1");
  return user_service::load_settings(kit::config::Source::from(std::move(env)));
}

class ServiceDocument : public ::testing::Test {
 protected:
  void SetUp() override {
    user_service::api::register_health_routes(router_, health_, shutting_down_);
    // The document needs the routes, not a connection: the database is created, never started.
    users_ = std::make_unique<user_service::UsersModule>(
        settings_, database_->users(), database_->sessions(), database_->account_tokens());
    users_->register_routes(router_, auth_guard_);
  }

  rapidjson::Document document(const Settings& s) {
    const std::string text = user_service::api::openapi_document(s, router_);
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    EXPECT_FALSE(doc.HasParseError());
    return doc;
  }

  Settings settings_ = settings();
  kit::health::Registry health_;
  std::atomic<bool> shutting_down_{false};
  kit::http::Router router_;
  std::unique_ptr<user_service::Database> database_ = user_service::Database::create(settings_, {});
  std::unique_ptr<user_service::UsersModule> users_;
  // RATE_LIMIT_ENABLED=false has no limiter: the guard allows everything (the document is what
  // is tested here, not the limits).
  kit::ratelimit::Guard auth_guard_{nullptr, kit::ratelimit::Policy{.name = "auth"}};
};

TEST_F(ServiceDocument, InfoComesFromTheSettings) {
  const auto doc = document(settings({{"APP_NAME", "Accounts"}, {"APP_VERSION", "3.0.0"}}));
  EXPECT_STREQ(doc["info"]["title"].GetString(), "Accounts");
  EXPECT_STREQ(doc["info"]["version"].GetString(), "3.0.0");
  EXPECT_STREQ(
      doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"]
          .GetString(),
      "/api/v1/auth/token");
}

TEST_F(ServiceDocument, RequestSchemasStateTheValidationRules) {
  const auto doc = document(settings_);
  const auto& create = doc["components"]["schemas"]["UserCreate"];
  ASSERT_EQ(create["required"].Size(), 3U);
  const auto& password = create["properties"]["password"];
  EXPECT_EQ(password["minLength"].GetUint64(), *schemas::UserCreate::kFields[2].min_length);
  EXPECT_EQ(password["maxLength"].GetUint64(), *schemas::UserCreate::kFields[2].max_length);
  EXPECT_TRUE(password["writeOnly"].GetBool());
  EXPECT_STREQ(password["format"].GetString(), "password");
  EXPECT_STREQ(create["properties"]["email"]["format"].GetString(), "email");
  EXPECT_EQ(create["properties"]["email"]["maxLength"].GetUint64(), 254U);
  EXPECT_EQ(create["properties"]["name"]["maxLength"].GetUint64(), 100U);
  // PATCH: nothing required.
  EXPECT_FALSE(doc["components"]["schemas"]["UserUpdate"].HasMember("required"));
  // The token route: the OAuth2 form first (Swagger UI's default), JSON too.
  const auto& token = doc["paths"]["/api/v1/auth/token"]["post"];
  const auto& content = token["requestBody"]["content"];
  EXPECT_STREQ(content.MemberBegin()->name.GetString(), "application/x-www-form-urlencoded");
  EXPECT_TRUE(content.HasMember("application/json"));
  const auto& grants =
      doc["components"]["schemas"]["TokenRequest"]["properties"]["grant_type"]["enum"];
  ASSERT_EQ(grants.Size(), 2U);
  EXPECT_STREQ(grants[0].GetString(), "password");
  EXPECT_STREQ(grants[1].GetString(), "refresh_token");
  // The refresh grant is part of the OAuth2 flow.
  EXPECT_STREQ(doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
                  ["refreshUrl"]
                      .GetString(),
               "/api/v1/auth/token");
  // The list route's query string.
  const auto& params = doc["paths"]["/api/v1/users"]["get"]["parameters"];
  ASSERT_EQ(params.Size(), 2U);
  EXPECT_STREQ(params[0]["name"].GetString(), "limit");
  EXPECT_EQ(params[0]["schema"]["minimum"].GetInt(), 1);
  EXPECT_EQ(params[0]["schema"]["maximum"].GetInt(), 100);
  EXPECT_EQ(params[0]["schema"]["default"].GetInt(), 50);
  EXPECT_STREQ(params[1]["name"].GetString(), "cursor");
}

TEST_F(ServiceDocument, ResponseSchemasNeverOfferMoreThanTheirFields) {
  const auto doc = document(settings_);
  const auto& user = doc["components"]["schemas"]["UserResponse"];
  EXPECT_EQ(user["properties"].MemberCount(), schemas::UserResponse::kFields.size());
  EXPECT_FALSE(user["properties"].HasMember("password_hash"));
  EXPECT_FALSE(user["properties"].HasMember("role"));
  EXPECT_STREQ(user["properties"]["created_at"]["format"].GetString(), "date-time");
  const auto& list = doc["components"]["schemas"]["UserListResponse"];
  EXPECT_STREQ(list["properties"]["items"]["items"]["$ref"].GetString(),
               "#/components/schemas/UserResponse");
  EXPECT_EQ(list["properties"]["next_cursor"]["type"].Size(), 2U);  // string or null
  const auto& ready = doc["components"]["schemas"]["ReadinessResponse"];
  EXPECT_STREQ(ready["properties"]["checks"]["additionalProperties"]["$ref"].GetString(),
               "#/components/schemas/HealthCheckResult");
  EXPECT_EQ(ready["properties"]["status"]["enum"].Size(), 3U);
}

TEST_F(ServiceDocument, RateLimitingOffRemoves429) {
  const auto on = document(settings_);
  EXPECT_TRUE(on["paths"]["/api/v1/users/me"]["get"]["responses"].HasMember("429"));
  EXPECT_FALSE(on["paths"]["/health/live"]["get"]["responses"].HasMember("429"));
  // Routes that check passwords say which budgets their 429 comes from.
  const std::string patch_429 =
      on["paths"]["/api/v1/users/me"]["patch"]["responses"]["429"]["description"].GetString();
  EXPECT_NE(patch_429.find("auth policy"), std::string::npos) << patch_429;
  const std::string token_429 =
      on["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]["description"].GetString();
  EXPECT_NE(token_429.find("per username"), std::string::npos) << token_429;
  const auto off = document(settings({{"RATE_LIMIT_ENABLED", "false"}}));
  for (const auto& [path, method] :
       std::vector<std::pair<const char*, const char*>>{{"/api/v1/users/me", "get"},
                                                        {"/api/v1/users/me", "patch"},
                                                        {"/api/v1/users/", "post"},
                                                        {"/api/v1/auth/token", "post"}}) {
    EXPECT_FALSE(off["paths"][path][method]["responses"].HasMember("429")) << method << path;
  }
}

TEST(JsonSchema, QueryParametersCarryTheDescriptionOutsideTheSchema) {
  const auto params = schemas::query_parameters(schemas::ListUsersQuery::schema());
  ASSERT_EQ(params.size(), 2U);
  EXPECT_EQ(params[0].in, "query");
  EXPECT_FALSE(params[0].required);
  EXPECT_EQ(params[0].description, "Page size");
  EXPECT_EQ(params[0].schema, R"({"type":"integer","minimum":1,"maximum":100,"default":50})");
  EXPECT_EQ(
      schemas::json_schema(schemas::TokenResponse::kFields[1]),
      R"({"type":"string","const":"bearer","readOnly":true,"description":"Always `bearer`"})");
}

}  // namespace
