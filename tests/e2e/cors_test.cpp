// End-to-end CORS (docs/configuration.md CORS_*, docs/http-api.md "CORS"): preflights are answered
// before the router (never 405), allowed origins get the CORS fields, refused origins get a plain
// 204 without them.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace e2e {
namespace {

constexpr const char* kApp = "https://app.example.com";

HttpResponse preflight(unsigned short port, const std::string& origin,
                       const std::string& target = "/api/v1/users/me") {
  return request(port, Request{"OPTIONS",
                               target,
                               {{"Origin", origin},
                                {"Access-Control-Request-Method", "PATCH"},
                                {"Access-Control-Request-Headers", "authorization,content-type"}},
                               ""});
}

TEST(Cors, PreflightFromAnAllowedOrigin) {
  ServiceProcess svc(test_env({{"CORS_ALLOW_ORIGINS", kApp}, {"CORS_ALLOW_CREDENTIALS", "true"}}));
  const auto res = preflight(svc.port(), kApp);
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res["Access-Control-Allow-Origin"], kApp);
  EXPECT_EQ(res["Access-Control-Allow-Credentials"], "true");
  EXPECT_NE(res["Access-Control-Allow-Methods"].find("PATCH"), std::string::npos);
  EXPECT_NE(res["Access-Control-Allow-Headers"].find("Authorization"), std::string::npos);
  EXPECT_FALSE(std::string(res["Access-Control-Max-Age"]).empty());
  EXPECT_NE(res["Vary"].find("Origin"), std::string::npos);
  EXPECT_FALSE(std::string(res["X-Request-ID"]).empty());
  // Also for a path the router does not know, and health: preflight never reaches the router.
  EXPECT_EQ(preflight(svc.port(), kApp, "/health/live").result_int(), 204);
}

TEST(Cors, PreflightFromARefusedOriginGetsNoCorsFields) {
  ServiceProcess svc(test_env({{"CORS_ALLOW_ORIGINS", kApp}}));
  const auto res = preflight(svc.port(), "https://evil.example");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res.find("Access-Control-Allow-Origin"), res.end());
  EXPECT_EQ(res.find("Access-Control-Allow-Methods"), res.end());
  EXPECT_NE(res["Vary"].find("Origin"), std::string::npos);
}

TEST(Cors, SimpleRequestsAndErrorsCarryTheFields) {
  ServiceProcess svc(test_env({{"CORS_ALLOW_ORIGINS", kApp}}));
  const auto ok = get(svc.port(), "/health/live", {{"Origin", kApp}});
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(ok["Access-Control-Allow-Origin"], kApp);
  EXPECT_EQ(ok["Vary"], "Origin");
  const auto missing = get(svc.port(), "/nope", {{"Origin", kApp}});
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_EQ(missing["Access-Control-Allow-Origin"], kApp);
  const auto refused = get(svc.port(), "/health/live", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(refused.find("Access-Control-Allow-Origin"), refused.end());
  EXPECT_EQ(refused["Vary"], "Origin");
}

TEST(Cors, DevelopmentDefaultIsWildcard) {
  ServiceProcess svc(test_env());
  EXPECT_EQ(get(svc.port(), "/health/live",
                {{"Origin", "https://anyone.example"}})["Access-Control-Allow-Origin"],
            "*");
}

TEST(Cors, OffWhenNoOriginsAreConfigured) {
  ServiceProcess svc(test_env({{"ENVIRONMENT", "staging"}, {"CORS_ALLOW_ORIGINS", ""}}));
  const auto res = get(svc.port(), "/health/live", {{"Origin", kApp}});
  EXPECT_EQ(res.find("Access-Control-Allow-Origin"), res.end());
  EXPECT_EQ(preflight(svc.port(), kApp, "/health/live").result_int(), 405);  // the router answers
}

TEST(Cors, WildcardWithCredentialsIsRefusedAtStartUp) {
  const auto r =
      run_command({"check-config"},
                  test_env({{"CORS_ALLOW_ORIGINS", "*"}, {"CORS_ALLOW_CREDENTIALS", "true"}}));
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE((r.out + r.err).find("CORS_ALLOW_ORIGINS"), std::string::npos);
}

}  // namespace
}  // namespace e2e
