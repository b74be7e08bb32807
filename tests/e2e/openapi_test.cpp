// GET /openapi.json, /docs and /redoc of the real binary (docs/http-api.md), walking the route
// table and the document both ways:
//  - every route with include_in_schema is in the document with its method, operationId,
//    security and exactly the statuses its RouteInfo declares; nothing else is in it;
//  - every documented status is driven with a real request, which must answer that status with
//    a body that fits the documented schema and the documented headers; every driven status is
//    documented. 429 and the readiness 503 get their own service instances.
//  - DOCS_ENABLED=false makes all three 404; the pages carry their own CSP.
#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "kit/config/source.hpp"
#include "kit/openapi/builder.hpp"
#include "service/api/openapi.hpp"
#include "service/app.hpp"
#include "support/smtp_receiver.hpp"
#include "support/users_client.hpp"

namespace e2e {
namespace {

using Value = rapidjson::Value;

const Value* member(const Value& v, const std::string& key) {
  if (!v.IsObject()) return nullptr;
  const auto it = v.FindMember(key.c_str());
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A small JSON Schema check, enough for the shapes the document uses ($ref, object with
// properties/required, additionalProperties, array items, type, const, enum), so a documented
// schema that does not fit the real body is caught. Responses must not carry undocumented
// properties: a UserResponse never has more than its four fields.
void expect_fits(const Value& root, const Value& schema, const Value& value,
                 const std::string& at) {
  if (const Value* ref = member(schema, "$ref")) {
    const std::string name =
        std::string(ref->GetString()).substr(std::string("#/components/schemas/").size());
    const Value* target = member(root["components"]["schemas"], name);
    ASSERT_NE(target, nullptr) << at << ": unknown schema " << name;
    expect_fits(root, *target, value, at);
    return;
  }
  if (const Value* c = member(schema, "const")) {
    EXPECT_TRUE(value == *c) << at << ": not the documented constant";
  }
  if (const Value* e = member(schema, "enum")) {
    bool listed = false;
    for (const auto& option : e->GetArray()) listed = listed || value == option;
    EXPECT_TRUE(listed) << at << ": not one of the documented values";
  }
  const Value* type = member(schema, "type");
  if (type == nullptr) return;
  std::set<std::string> types;
  if (type->IsArray()) {
    for (const auto& t : type->GetArray()) types.insert(t.GetString());
  } else {
    types.insert(type->GetString());
  }
  const bool ok =
      (types.count("object") && value.IsObject()) || (types.count("array") && value.IsArray()) ||
      (types.count("string") && value.IsString()) || (types.count("integer") && value.IsInt64()) ||
      (types.count("number") && value.IsNumber()) || (types.count("null") && value.IsNull()) ||
      (types.count("boolean") && value.IsBool());
  ASSERT_TRUE(ok) << at << ": not of the documented type";
  if (value.IsObject()) {
    const Value* props = member(schema, "properties");
    const Value* extra = member(schema, "additionalProperties");
    if (const Value* required = member(schema, "required")) {
      for (const auto& r : required->GetArray()) {
        EXPECT_TRUE(value.HasMember(r.GetString())) << at << ": missing " << r.GetString();
      }
    }
    for (const auto& m : value.GetObject()) {
      const std::string key = m.name.GetString();
      if (const Value* p = props ? member(*props, key) : nullptr) {
        expect_fits(root, *p, m.value, at + "." + key);
      } else if (extra != nullptr && extra->IsObject()) {
        expect_fits(root, *extra, m.value, at + "." + key);
      } else {
        ADD_FAILURE() << at << ": undocumented property " << key;
      }
    }
  }
  if (value.IsArray()) {
    if (const Value* items = member(schema, "items")) {
      for (const auto& item : value.GetArray()) expect_fits(root, *items, item, at + "[]");
    }
  }
}

// The real response against the documented one (body schema and headers).
void expect_documented(const Value& root, const Value& documented, const HttpResponse& res,
                       const std::string& what) {
  if (const Value* headers = member(documented, "headers")) {
    for (const auto& h : headers->GetObject()) {
      EXPECT_NE(res.find(h.name.GetString()), res.end())
          << what << ": documented header " << h.name.GetString() << " missing";
    }
  }
  const Value* content = member(documented, "content");
  if (content == nullptr) {
    EXPECT_TRUE(res.body().empty()) << what << ": undocumented body " << res.body();
    return;
  }
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json; charset=utf-8")
      << what;
  const rapidjson::Document body = parse_json(res.body());
  expect_fits(root, (*content)["application/json"]["schema"], body, what);
}

class OpenApi : public BackendTest {
 protected:
  Env extra_env() override {
    return {{"APP_NAME", "Users & Co <e2e>"},
            {"APP_VERSION", "9.8.7-e2e"},
            {"MAX_BODY_BYTES", "4096"},
            {"RATE_LIMIT_PER_MINUTE", "100000"},
            {"LOGIN_RATE_LIMIT_PER_MINUTE", "100000"}};
  }

  rapidjson::Document document(unsigned short port) {
    const auto res = get(port, "/openapi.json");
    EXPECT_EQ(res.result_int(), 200) << res.body();
    return parse_json(res.body());
  }
};

TEST_P(OpenApi, EveryRouteIsDocumentedWithTheStatusesItsTableDeclares) {
  const rapidjson::Document doc = document(port());
  EXPECT_EQ(str(doc, "openapi"), "3.1.0");
  EXPECT_EQ(str(doc["info"], "title"), "Users & Co <e2e>");
  EXPECT_EQ(str(doc["info"], "version"), "9.8.7-e2e");
  const Value& password = doc["components"]["securitySchemes"]["OAuth2PasswordBearer"];
  EXPECT_EQ(str(password, "type"), "oauth2");
  EXPECT_EQ(str(password["flows"]["password"], "tokenUrl"), "/api/v1/auth/token");
  ASSERT_TRUE(doc["paths"].HasMember("/api/v1/auth/token"));
  EXPECT_TRUE(doc["paths"]["/api/v1/auth/token"].HasMember("post"));

  // The same settings in-process give the binary's route table.
  const user_service::Settings settings =
      user_service::load_settings(kit::config::Source::from(env_));
  const user_service::App app(settings);
  const auto options = user_service::api::openapi_options(settings);
  std::size_t documented_routes = 0;
  for (const kit::http::Route& route : app.router().routes()) {
    const std::string path = kit::openapi::openapi_path(route);
    const std::string method = lower(std::string(boost::beast::http::to_string(route.method)));
    const Value* item = member(doc["paths"], path);
    const Value* op = item ? member(*item, method) : nullptr;
    if (!route.info.include_in_schema) {
      EXPECT_EQ(op, nullptr) << method << " " << path << " is documented but should not be";
      continue;
    }
    ++documented_routes;
    ASSERT_NE(op, nullptr) << method << " " << path << " is missing from the document";
    std::vector<unsigned> statuses;
    for (const auto& r : (*op)["responses"].GetObject()) {
      statuses.push_back(static_cast<unsigned>(std::stoul(r.name.GetString())));
    }
    EXPECT_EQ(statuses, kit::openapi::documented_statuses(route.info, options))
        << method << " " << path;
    if (!route.info.openapi.operation_id.empty()) {
      EXPECT_EQ(str(*op, "operationId"), route.info.openapi.operation_id);
    }
    EXPECT_EQ(op->HasMember("security"), route.info.openapi.bearer) << method << " " << path;
    EXPECT_EQ(op->HasMember("requestBody"), !route.info.openapi.request_body.empty());
  }
  // Nothing documented that the router does not have.
  std::size_t operations = 0;
  for (const auto& item : doc["paths"].GetObject()) operations += item.value.MemberCount();
  EXPECT_EQ(operations, documented_routes);
  EXPECT_GE(documented_routes, 9U);
  // The docs routes themselves exist but are not in the document.
  for (const char* path : {"/openapi.json", "/docs", "/redoc"}) {
    EXPECT_FALSE(doc["paths"].HasMember(path)) << path;
  }
}

TEST_P(OpenApi, EveryDocumentedStatusIsOneTheRouteReallyReturns) {
  const rapidjson::Document doc = document(port());
  const std::string password = unique_password();
  const std::string email = unique_email("docs");
  const auto [id, token] = c().new_user(email, password, "Docs");
  const std::string other_email = unique_email("other");
  const auto [other_id, other_token] = c().new_user(other_email, unique_password(), "Other");
  const std::string admin = admin_token();
  const std::string big(5000, 'x');  // over MAX_BODY_BYTES=4096
  const std::string form = "application/x-www-form-urlencoded";

  using Send = std::function<HttpResponse()>;
  // "<method> <path> <status>" → a request that gets exactly that status.
  std::map<std::string, Send> drive{
      {"get /health/live 200", [&] { return c().call("GET", "/health/live"); }},
      {"get /health/ready 200", [&] { return c().call("GET", "/health/ready"); }},
      {"get /.well-known/jwks.json 200", [&] { return c().call("GET", "/.well-known/jwks.json"); }},
      {"get /.well-known/oauth-authorization-server 200",
       [&] { return c().call("GET", "/.well-known/oauth-authorization-server"); }},
      {"post /api/v1/users/ 201",
       [&] { return c().register_user(unique_email("new"), "New", unique_password()); }},
      {"post /api/v1/users/ 400", [&] { return c().post_json("/api/v1/users/", "{"); }},
      {"post /api/v1/users/ 409",
       [&] { return c().register_user(email, "Again", unique_password()); }},
      {"post /api/v1/users/ 413",
       [&] { return c().post_json("/api/v1/users/", R"({"x":")" + big + "\"}"); }},
      {"post /api/v1/users/ 415",
       [&] { return c().post_json("/api/v1/users/", "{}", "", "text/plain"); }},
      {"post /api/v1/users/ 422", [&] { return c().post_json("/api/v1/users/", "{}"); }},
      {"get /api/v1/users/me 200", [&] { return c().call("GET", "/api/v1/users/me", token); }},
      {"get /api/v1/users/me 401", [&] { return c().call("GET", "/api/v1/users/me"); }},
      {"patch /api/v1/users/me 200",
       [&] { return c().call("PATCH", "/api/v1/users/me", token, R"({"name":"Renamed"})"); }},
      {"patch /api/v1/users/me 400",
       [&] { return c().call("PATCH", "/api/v1/users/me", token, "{"); }},
      {"patch /api/v1/users/me 401",
       [&] { return c().call("PATCH", "/api/v1/users/me", "", R"({"name":"X"})"); }},
      {"patch /api/v1/users/me 403",
       [&] {
         return c().call("PATCH", "/api/v1/users/me", token,
                         R"({"email":"x-)" + random_suffix() +
                             R"(@example.com","current_password":"wrong-password"})");
       }},
      {"patch /api/v1/users/me 409",
       [&] {
         return c().call("PATCH", "/api/v1/users/me", token,
                         R"({"email":")" + other_email + R"(","current_password":")" +
                             json_escape(password) + "\"}");
       }},
      {"patch /api/v1/users/me 413",
       [&] { return c().call("PATCH", "/api/v1/users/me", token, R"({"x":")" + big + "\"}"); }},
      {"patch /api/v1/users/me 415",
       [&] { return c().call("PATCH", "/api/v1/users/me", token, "{}", "text/plain"); }},
      {"patch /api/v1/users/me 422",
       [&] { return c().call("PATCH", "/api/v1/users/me", token, R"({"name":""})"); }},
      {"delete /api/v1/users/me 204",
       [&] {
         const auto [gone_id, gone_token] = c().new_user(unique_email("gone"), unique_password());
         return c().call("DELETE", "/api/v1/users/me", gone_token);
       }},
      {"delete /api/v1/users/me 401", [&] { return c().call("DELETE", "/api/v1/users/me"); }},
      {"get /api/v1/users/{user_id} 200",
       [&] { return c().call("GET", "/api/v1/users/" + id, token); }},
      {"get /api/v1/users/{user_id} 401", [&] { return c().call("GET", "/api/v1/users/" + id); }},
      {"get /api/v1/users/{user_id} 404",
       [&] { return c().call("GET", "/api/v1/users/" + other_id, token); }},
      {"get /api/v1/users 200", [&] { return c().call("GET", "/api/v1/users?limit=2", admin); }},
      {"get /api/v1/users 400", [&] { return c().call("GET", "/api/v1/users?limit=%zz", admin); }},
      {"get /api/v1/users 401", [&] { return c().call("GET", "/api/v1/users"); }},
      {"get /api/v1/users 403", [&] { return c().call("GET", "/api/v1/users", token); }},
      {"get /api/v1/users 422", [&] { return c().call("GET", "/api/v1/users?limit=0", admin); }},
      {"post /api/v1/auth/token 200", [&] { return c().token_form(email, password); }},
      {"post /api/v1/auth/token 400",
       [&] { return c().post_json("/api/v1/auth/token", "username=%zz", "", form); }},
      {"post /api/v1/auth/token 401", [&] { return c().token_form(email, "wrong-password"); }},
      {"post /api/v1/auth/token 413",
       [&] { return c().post_json("/api/v1/auth/token", "username=" + big, "", form); }},
      {"post /api/v1/auth/token 415",
       [&] { return c().post_json("/api/v1/auth/token", "x", "", "text/plain"); }},
      {"post /api/v1/auth/token 422",
       [&] { return c().post_json("/api/v1/auth/token", "username=a", "", form); }},
      {"get /api/v1/auth/sessions 200",
       [&] { return c().call("GET", "/api/v1/auth/sessions", token); }},
      {"get /api/v1/auth/sessions 401", [&] { return c().call("GET", "/api/v1/auth/sessions"); }},
      {"delete /api/v1/auth/sessions/{session_id} 204",
       [&] {
         const std::string second = c().login(email, password);
         return c().call("DELETE", "/api/v1/auth/sessions/" + session_of(second), token);
       }},
      {"delete /api/v1/auth/sessions/{session_id} 401",
       [&] { return c().call("DELETE", "/api/v1/auth/sessions/" + session_of(token)); }},
      {"delete /api/v1/auth/sessions/{session_id} 404",
       [&] { return c().call("DELETE", "/api/v1/auth/sessions/" + session_of(admin), token); }},
      {"post /api/v1/auth/logout 204",
       [&] { return c().call("POST", "/api/v1/auth/logout", c().login(email, password)); }},
      {"post /api/v1/auth/logout 400",
       [&] { return c().call("POST", "/api/v1/auth/logout?scope=%zz", token); }},
      {"post /api/v1/auth/logout 401", [&] { return c().call("POST", "/api/v1/auth/logout"); }},
      {"post /api/v1/auth/logout 422",
       [&] { return c().call("POST", "/api/v1/auth/logout?scope=some", token); }},
      {"delete /api/v1/users/{user_id}/sessions 204",
       [&] {
         const auto [victim_id, victim] = c().new_user(unique_email("victim"), unique_password());
         return c().call("DELETE", "/api/v1/users/" + victim_id + "/sessions", admin);
       }},
      {"delete /api/v1/users/{user_id}/sessions 401",
       [&] { return c().call("DELETE", "/api/v1/users/" + other_id + "/sessions"); }},
      {"post /api/v1/auth/verify-email 400",
       [&] { return c().post_json("/api/v1/auth/verify-email", R"({"token":"unknown"})"); }},
      {"post /api/v1/auth/verify-email 413",
       [&] { return c().post_json("/api/v1/auth/verify-email", R"({"x":")" + big + "\"}"); }},
      {"post /api/v1/auth/verify-email 415",
       [&] { return c().post_json("/api/v1/auth/verify-email", "{}", "", "text/plain"); }},
      {"post /api/v1/auth/verify-email 422",
       [&] { return c().post_json("/api/v1/auth/verify-email", "{}"); }},
      {"post /api/v1/auth/verify-email/resend 202",
       [&] { return c().call("POST", "/api/v1/auth/verify-email/resend", token); }},
      {"post /api/v1/auth/verify-email/resend 401",
       [&] { return c().call("POST", "/api/v1/auth/verify-email/resend"); }},
      {"post /api/v1/auth/password-reset/request 202",
       [&] {
         return c().post_json("/api/v1/auth/password-reset/request",
                              R"({"email":")" + email + "\"}");
       }},
      {"post /api/v1/auth/password-reset/request 400",
       [&] { return c().post_json("/api/v1/auth/password-reset/request", "{"); }},
      {"post /api/v1/auth/password-reset/request 413",
       [&] {
         return c().post_json("/api/v1/auth/password-reset/request", R"({"x":")" + big + "\"}");
       }},
      {"post /api/v1/auth/password-reset/request 415",
       [&] {
         return c().post_json("/api/v1/auth/password-reset/request", "{}", "", "text/plain");
       }},
      {"post /api/v1/auth/password-reset/request 422",
       [&] { return c().post_json("/api/v1/auth/password-reset/request", "{}"); }},
      {"post /api/v1/auth/password-reset 400",
       [&] {
         return c().post_json("/api/v1/auth/password-reset",
                              R"({"token":"unknown","new_password":"long enough"})");
       }},
      {"post /api/v1/auth/password-reset 413",
       [&] { return c().post_json("/api/v1/auth/password-reset", R"({"x":")" + big + "\"}"); }},
      {"post /api/v1/auth/password-reset 415",
       [&] { return c().post_json("/api/v1/auth/password-reset", "{}", "", "text/plain"); }},
      {"post /api/v1/auth/password-reset 422",
       [&] { return c().post_json("/api/v1/auth/password-reset", "{}"); }},
      {"delete /api/v1/users/{user_id}/sessions 403",
       [&] { return c().call("DELETE", "/api/v1/users/" + other_id + "/sessions", token); }},
      {"delete /api/v1/users/{user_id}/sessions 404",
       [&] {
         return c().call("DELETE", "/api/v1/users/00000000-0000-4000-8000-000000000000/sessions",
                         admin);
       }},
  };
  // Statuses that need another instance of the service (or a token from an email); driven by
  // the tests below.
  const auto elsewhere = [](const std::string& key) {
    return key.ends_with(" 429") || key == "get /health/ready 503" ||
           key == "post /api/v1/auth/verify-email 200" ||
           key == "post /api/v1/auth/password-reset 204";
  };

  std::set<std::string> documented;
  for (const auto& item : doc["paths"].GetObject()) {
    for (const auto& op : item.value.GetObject()) {
      for (const auto& r : op.value["responses"].GetObject()) {
        const std::string key = std::string(op.name.GetString()) + " " + item.name.GetString() +
                                " " + r.name.GetString();
        documented.insert(key);
        if (elsewhere(key)) continue;
        const auto it = drive.find(key);
        if (it == drive.end()) {
          ADD_FAILURE() << "no request drives the documented " << key;
          continue;
        }
        const HttpResponse res = it->second();
        ASSERT_EQ(std::to_string(res.result_int()), r.name.GetString())
            << key << ": " << res.body();
        expect_documented(doc, r.value, res, key);
      }
    }
  }
  for (const auto& [key, send] : drive) {
    EXPECT_TRUE(documented.count(key)) << key << " is returned but not documented";
  }
}

// 429 on every rate-limited route, through an instance allowing one request a minute.
TEST_P(OpenApi, RateLimitedRoutesDocument429AndReturnIt) {
  ServiceProcess limited(test_env({{"RATE_LIMIT_PER_MINUTE", "1"}}));
  const rapidjson::Document doc = document(limited.port());  // not rate limited itself
  UsersClient client(limited.port());
  const auto spent = client.call("GET", "/api/v1/users/me");  // the one allowed request
  EXPECT_EQ(spent.result_int(), 401);
  std::size_t limited_routes = 0;
  for (const auto& item : doc["paths"].GetObject()) {
    for (const auto& op : item.value.GetObject()) {
      const std::string method = op.name.GetString();
      std::string target = item.name.GetString();
      for (const std::string param : {"{user_id}", "{session_id}"}) {
        if (const auto p = target.find(param); p != std::string::npos) {
          target.replace(p, param.size(), "00000000-0000-4000-8000-000000000000");
        }
      }
      const Value* documented = member(op.value["responses"], "429");
      const std::string body = method == "get" ? "" : "{}";
      const HttpResponse res = client.call(upper(method), target, "", body);
      if (documented == nullptr) {
        EXPECT_NE(res.result_int(), 429) << method << " " << target << " is not documented so";
        continue;
      }
      ++limited_routes;
      ASSERT_EQ(res.result_int(), 429) << method << " " << target << ": " << res.body();
      expect_documented(doc, *documented, res, method + " " + target + " 429");
    }
  }
  EXPECT_GE(limited_routes, 7U);
}

// The token of the <path> link in the text part of the newest email to `to`.
std::string token_from_mail(SmtpReceiver& smtp, const std::string& to, const std::string& path) {
  const auto mails = smtp.wait_for([&](const Mail& m) {
    return m.sent_to(to) && m.text.find("/" + path + "?token=") != std::string::npos;
  });
  if (mails.empty()) return "";
  const std::string& text = mails.back().text;
  const std::size_t at = text.find("/" + path + "?token=") + path.size() + 8;
  return text.substr(at, 43);  // 256 bits as base64url
}

// The documented successes of the email token routes, with tokens from real emails.
TEST_P(OpenApi, AccountTokenRoutesDocumentTheirSuccessAndReturnIt) {
  SmtpReceiver smtp;
  ServiceProcess mailing(test_env({{"SMTP_URL", smtp.url()},
                                   {"EMAIL_FROM", "no-reply@example.test"},
                                   {"PUBLIC_BASE_URL", "http://app.example.test"}}));
  const rapidjson::Document doc = document(mailing.port());
  UsersClient client(mailing.port());
  const std::string email = unique_email("doc-tokens");
  ASSERT_EQ(client.register_user(email, "Docs", unique_password()).result_int(), 201);
  const std::string verification = token_from_mail(smtp, email, "verify-email");
  ASSERT_EQ(verification.size(), 43U) << "no verification email";
  const HttpResponse verified =
      client.post_json("/api/v1/auth/verify-email", R"({"token":")" + verification + "\"}");
  ASSERT_EQ(verified.result_int(), 200) << verified.body();
  expect_documented(doc, doc["paths"]["/api/v1/auth/verify-email"]["post"]["responses"]["200"],
                    verified, "post /api/v1/auth/verify-email 200");

  ASSERT_EQ(client.post_json("/api/v1/auth/password-reset/request", R"({"email":")" + email + "\"}")
                .result_int(),
            202);
  const std::string reset = token_from_mail(smtp, email, "reset-password");
  ASSERT_EQ(reset.size(), 43U) << "no reset email";
  const HttpResponse done =
      client.post_json("/api/v1/auth/password-reset",
                       R"({"token":")" + reset + R"(","new_password":"long enough"})");
  ASSERT_EQ(done.result_int(), 204) << done.body();
  expect_documented(doc, doc["paths"]["/api/v1/auth/password-reset"]["post"]["responses"]["204"],
                    done, "post /api/v1/auth/password-reset 204");
}

// The readiness probe's documented 503: Redis configured but unreachable.
TEST_P(OpenApi, ReadinessDocuments503AndReturnsIt) {
  ServiceProcess degraded(test_env({{"REDIS_URL", "redis://127.0.0.1:1/0"}}));
  const rapidjson::Document doc = document(degraded.port());
  const Value& documented = doc["paths"]["/health/ready"]["get"]["responses"]["503"];
  const HttpResponse res = get(degraded.port(), "/health/ready");
  ASSERT_EQ(res.result_int(), 503) << res.body();
  expect_documented(doc, documented, res, "get /health/ready 503");
  EXPECT_EQ(Json(res.body())["status"], "degraded");
}

TEST_P(OpenApi, DocsPagesHaveTheirOwnPolicyAndAreNotRateLimited) {
  const auto docs = get(port(), "/docs");
  ASSERT_EQ(docs.result_int(), 200);
  EXPECT_EQ(docs[boost::beast::http::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(docs.body().find("<title>Users &amp; Co &lt;e2e&gt; - Swagger UI</title>"),
            std::string::npos);
  // The default assets base is the public CDN, as FastAPI's.
  EXPECT_NE(docs.body().find(
                R"(src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js")"),
            std::string::npos);
  const std::string csp(docs["Content-Security-Policy"]);
  EXPECT_NE(csp.find("script-src https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/ 'sha256-"),
            std::string::npos)
      << csp;
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(docs.find("RateLimit"), docs.end());

  const auto redoc = get(port(), "/redoc");
  ASSERT_EQ(redoc.result_int(), 200);
  EXPECT_NE(redoc.body().find(R"(<redoc spec-url="/openapi.json">)"), std::string::npos);
  EXPECT_NE(redoc.body().find("https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"),
            std::string::npos);
  EXPECT_NE(std::string(redoc["Content-Security-Policy"]).find("frame-ancestors 'none'"),
            std::string::npos);
  const auto json = get(port(), "/openapi.json");
  EXPECT_EQ(json.find("RateLimit"), json.end());
  // The API keeps the strict default policy.
  EXPECT_EQ(get(port(), "/health/live")["Content-Security-Policy"],
            "default-src 'none'; frame-ancestors 'none'");
}

TEST_P(OpenApi, DocsDisabledMakesAllThree404) {
  ServiceProcess off(test_env({{"DOCS_ENABLED", "false"}}));
  for (const char* path : {"/openapi.json", "/docs", "/redoc", "/docs/"}) {
    const auto res = get(off.port(), path);
    EXPECT_EQ(res.result_int(), 404) << path;
    EXPECT_EQ(Json(res.body())["error"], "NOT_FOUND") << path;
  }
  EXPECT_EQ(get(off.port(), "/health/live").result_int(), 200);
}

// SQLite only: the document does not depend on the database, and create-admin needs a file.
INSTANTIATE_TEST_SUITE_P(Sqlite, OpenApi, ::testing::Values("sqlite"), backend_name);

}  // namespace
}  // namespace e2e
