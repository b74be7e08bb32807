// kit::openapi::Builder: paths and operations from a route table, the statuses the kit adds,
// security, tags, component schemas, and the start-up failures for inconsistent descriptions.
#include "kit/openapi/builder.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kit/http/response.hpp"

namespace {

namespace asio = boost::asio;
using namespace kit::http;  // the types under test
using kit::openapi::Builder;
using kit::openapi::Options;

constexpr const char* kThing = R"({"type":"object","properties":{"id":{"type":"string"}}})";

kit::http::Handler ok() {
  return [](Request&, RequestContext&) -> asio::awaitable<Response> {
    co_return kit::http::json_response(kit::http::Status::ok, "{}");
  };
}

Options options() {
  return Options{.title = "Things",
                 .version = "1.2.3",
                 .description = "About things",
                 .tags = {{"things", "All the things"}},
                 .token_url = "/token"};
}

rapidjson::Document build(const Router& router, const Options& o = options()) {
  const std::string text = Builder(o).schema("Thing", kThing).build(router);
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::vector<std::string> status_keys(const rapidjson::Value& op) {
  std::vector<std::string> keys;
  for (const auto& r : op["responses"].GetObject()) keys.emplace_back(r.name.GetString());
  return keys;
}

std::string schema_ref(const rapidjson::Value& response) {
  return response["content"]["application/json"]["schema"]["$ref"].GetString();
}

TEST(OpenApiBuilder, InfoTagsAndTheOAuth2PasswordScheme) {
  Router router;
  router.add(Verb::get, "/things", ok(),
             {.summary = "List", .tags = {"things", "extra"}, .openapi = {.responses = {{200}}}});
  const auto doc = build(router);
  EXPECT_STREQ(doc["openapi"].GetString(), "3.1.0");
  EXPECT_STREQ(doc["info"]["title"].GetString(), "Things");
  EXPECT_STREQ(doc["info"]["version"].GetString(), "1.2.3");
  EXPECT_STREQ(doc["info"]["description"].GetString(), "About things");
  ASSERT_EQ(doc["tags"].Size(), 2U);  // declared first, then the ones routes use
  EXPECT_STREQ(doc["tags"][0]["name"].GetString(), "things");
  EXPECT_STREQ(doc["tags"][0]["description"].GetString(), "All the things");
  EXPECT_STREQ(doc["tags"][1]["name"].GetString(), "extra");
  EXPECT_FALSE(doc["tags"][1].HasMember("description"));
  const auto& scheme = doc["components"]["securitySchemes"]["OAuth2PasswordBearer"];
  EXPECT_STREQ(scheme["type"].GetString(), "oauth2");
  EXPECT_STREQ(scheme["flows"]["password"]["tokenUrl"].GetString(), "/token");
  EXPECT_TRUE(scheme["flows"]["password"]["scopes"].IsObject());
  // The envelope schemas are always there, next to the registered ones.
  for (const char* name : {"ErrorResponse", "ErrorDetail", "Thing"}) {
    EXPECT_TRUE(doc["components"]["schemas"].HasMember(name)) << name;
  }
  const auto& envelope = doc["components"]["schemas"]["ErrorResponse"];
  EXPECT_STREQ(envelope["properties"]["details"]["items"]["$ref"].GetString(),
               "#/components/schemas/ErrorDetail");
}

TEST(OpenApiBuilder, PathsKeepTemplatesAndTrailingSlashesAndTypeParameters) {
  Router router;
  router.add(Verb::post, "/things/", ok(), {.openapi = {.responses = {{201}}}});
  router.add(Verb::get, "/things/{id:uuid}", ok(), {.openapi = {.responses = {{200}}}});
  router.add(Verb::delete_, "/things/{id:uuid}", ok(), {.openapi = {.responses = {{204}}}});
  router.add(Verb::get, "/pages/{n:int}/{slug}", ok(), {.openapi = {.responses = {{200}}}});
  router.add(Verb::get, "/hidden", ok(), {.include_in_schema = false});
  const auto doc = build(router);
  const auto& paths = doc["paths"];
  ASSERT_EQ(paths.MemberCount(), 3U);
  EXPECT_TRUE(paths["/things/"].HasMember("post"));
  EXPECT_TRUE(paths["/things/{id}"].HasMember("get"));
  EXPECT_TRUE(paths["/things/{id}"].HasMember("delete"));
  EXPECT_FALSE(paths.HasMember("/hidden"));
  const auto& id = paths["/things/{id}"]["get"]["parameters"][0];
  EXPECT_STREQ(id["name"].GetString(), "id");
  EXPECT_STREQ(id["in"].GetString(), "path");
  EXPECT_TRUE(id["required"].GetBool());
  EXPECT_STREQ(id["schema"]["format"].GetString(), "uuid");
  const auto& params = paths["/pages/{n}/{slug}"]["get"]["parameters"];
  ASSERT_EQ(params.Size(), 2U);
  EXPECT_STREQ(params[0]["schema"]["type"].GetString(), "integer");
  EXPECT_STREQ(params[1]["name"].GetString(), "slug");
  EXPECT_STREQ(params[1]["schema"]["type"].GetString(), "string");
  // Without an explicit one, the operationId comes from the method and the path.
  EXPECT_STREQ(paths["/pages/{n}/{slug}"]["get"]["operationId"].GetString(), "get_pages_n_slug");
}

TEST(OpenApiBuilder, BodiesQueriesBearerAndRateLimitsAddTheKitsErrors) {
  Router router;
  router.add(Verb::post, "/things", ok(),
             {.summary = "Create",
              .tags = {"things"},
              .openapi = {.operation_id = "create_thing",
                          .request_body = {{"application/json", "Thing"},
                                           {"application/x-www-form-urlencoded", "Thing"}},
                          .responses = {{201, "Created", "Thing", {{"Location", "Where"}}}},
                          .errors = {{409, "Taken"}},
                          .bearer = true}});
  router.add(Verb::get, "/things", ok(),
             {.rate_limited = false,
              .openapi = {.parameters = {{.name = "limit",
                                          .required = false,
                                          .description = "Page size",
                                          .schema = R"({"type":"integer","maximum":10})"}},
                          .responses = {{200, "", "Thing"}}}});
  const auto doc = build(router);
  const auto& create = doc["paths"]["/things"]["post"];
  EXPECT_STREQ(create["operationId"].GetString(), "create_thing");
  EXPECT_STREQ(create["summary"].GetString(), "Create");
  EXPECT_STREQ(create["tags"][0].GetString(), "things");
  EXPECT_EQ(status_keys(create),
            (std::vector<std::string>{"201", "400", "401", "409", "413", "415", "422", "429"}));
  EXPECT_TRUE(create["requestBody"]["required"].GetBool());
  EXPECT_STREQ(
      create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"]
          .GetString(),
      "#/components/schemas/Thing");
  EXPECT_EQ(schema_ref(create["responses"]["201"]), "#/components/schemas/Thing");
  EXPECT_TRUE(create["responses"]["201"]["headers"].HasMember("Location"));
  EXPECT_STREQ(create["responses"]["409"]["description"].GetString(), "Taken");
  for (const char* status : {"400", "401", "409", "413", "415", "422", "429"}) {
    EXPECT_EQ(schema_ref(create["responses"][status]), "#/components/schemas/ErrorResponse")
        << status;
  }
  EXPECT_TRUE(create["responses"]["401"]["headers"].HasMember("WWW-Authenticate"));
  EXPECT_TRUE(create["responses"]["429"]["headers"].HasMember("Retry-After"));
  ASSERT_TRUE(create["security"].IsArray());
  EXPECT_TRUE(create["security"][0]["OAuth2PasswordBearer"].IsArray());

  const auto& list = doc["paths"]["/things"]["get"];
  EXPECT_EQ(status_keys(list), (std::vector<std::string>{"200", "400", "422"}));
  EXPECT_FALSE(list.HasMember("security"));
  const auto& limit = list["parameters"][0];
  EXPECT_STREQ(limit["in"].GetString(), "query");
  EXPECT_FALSE(limit["required"].GetBool());
  EXPECT_STREQ(limit["description"].GetString(), "Page size");
  EXPECT_EQ(limit["schema"]["maximum"].GetInt(), 10);

  // documented_statuses is what the document says.
  Options o = options();
  EXPECT_EQ(kit::openapi::documented_statuses(router.routes()[0].info, o),
            (std::vector<unsigned>{201, 400, 401, 409, 413, 415, 422, 429}));
  o.rate_limiting = false;  // RATE_LIMIT_ENABLED=false: no 429 anywhere
  EXPECT_EQ(kit::openapi::documented_statuses(router.routes()[0].info, o),
            (std::vector<unsigned>{201, 400, 401, 409, 413, 415, 422}));
  EXPECT_EQ(status_keys(build(router, o)["paths"]["/things"]["post"]).back(), "422");
}

TEST(OpenApiBuilder, APathParameterDeclaredByTheRouteReplacesTheDefault) {
  Router router;
  router.add(Verb::get, "/users/{user_id}", ok(),
             {.openapi = {.parameters = {{.name = "user_id",
                                          .in = "path",
                                          .required = true,
                                          .description = "A UUID",
                                          .schema = R"({"type": "string", "maxLength": 100})"}},
                          .responses = {{200}}}});
  const auto doc = build(router);
  const auto& params = doc["paths"]["/users/{user_id}"]["get"]["parameters"];
  ASSERT_EQ(params.Size(), 1U);  // once, not as a path and a declared parameter
  EXPECT_STREQ(params[0]["description"].GetString(), "A UUID");
  EXPECT_EQ(params[0]["schema"]["maxLength"].GetInt(), 100);
  // A path parameter does not make the route validate a query: no 400/422 added.
  EXPECT_EQ(status_keys(doc["paths"]["/users/{user_id}"]["get"]),
            (std::vector<std::string>{"200", "429"}));
}

TEST(OpenApiBuilder, ComponentSchemasAreCompactedAndMustBeJsonObjects) {
  Router router;
  router.add(Verb::get, "/x", ok(), {.openapi = {.responses = {{200, "", "Spaced"}}}});
  const std::string text =
      Builder(options()).schema("Spaced", "{ \"type\" :\n \"object\" }").build(router);
  EXPECT_NE(text.find(R"("Spaced":{"type":"object"})"), std::string::npos) << text;
  Builder b(options());
  EXPECT_THROW(b.schema("Bad", "{not json"), std::invalid_argument);
  EXPECT_THROW(b.schema("Array", "[]"), std::invalid_argument);
  b.schema("Once", kThing);
  EXPECT_THROW(b.schema("Once", kThing), std::invalid_argument);
  EXPECT_THROW(b.schema("ErrorResponse", kThing), std::invalid_argument);
}

// Inconsistent descriptions fail the build (at start-up), never produce a wrong document.
TEST(OpenApiBuilder, InconsistentDescriptionsThrow) {
  const auto fails = [](const std::function<void(Router&)>& add,
                        const std::string& schema = kThing) {
    Router router;
    add(router);
    EXPECT_THROW(Builder(options()).schema("Thing", schema).build(router), std::logic_error);
  };
  // A response schema nobody registered.
  fails([](Router& r) {
    r.add(Verb::get, "/a", ok(), {.openapi = {.responses = {{200, "", "Missing"}}}});
  });
  // A request body schema nobody registered.
  fails([](Router& r) {
    r.add(Verb::post, "/a", ok(),
          {.openapi = {.request_body = {{"application/json", "Missing"}}, .responses = {{200}}}});
  });
  // A $ref inside a component to nothing.
  fails([](Router& r) { r.add(Verb::get, "/a", ok(), {.openapi = {.responses = {{200}}}}); },
        R"({"type":"array","items":{"$ref":"#/components/schemas/Ghost"}})");
  // Two operations with one operationId.
  fails([](Router& r) {
    r.add(Verb::get, "/a", ok(), {.openapi = {.operation_id = "same", .responses = {{200}}}});
    r.add(Verb::get, "/b", ok(), {.openapi = {.operation_id = "same", .responses = {{200}}}});
  });
  // A path parameter the template does not have.
  fails([](Router& r) {
    r.add(Verb::get, "/a", ok(),
          {.openapi = {.parameters = {{.name = "id", .in = "path"}}, .responses = {{200}}}});
  });
  // A parameter somewhere other than query or path.
  fails([](Router& r) {
    r.add(Verb::get, "/a", ok(),
          {.openapi = {.parameters = {{.name = "X-Key", .in = "header"}}, .responses = {{200}}}});
  });
  // No success response at all.
  fails([](Router& r) { r.add(Verb::get, "/a", ok(), {}); });
  // One status as a response and as an error.
  fails([](Router& r) {
    r.add(Verb::get, "/a", ok(), {.openapi = {.responses = {{200}}, .errors = {{200}}}});
  });
  // One status twice.
  fails([](Router& r) {
    r.add(Verb::get, "/a", ok(), {.openapi = {.responses = {{200}, {200}}}});
  });
  // Templates differing only in parameter names (OpenAPI forbids them).
  fails([](Router& r) {
    r.add(Verb::get, "/a/{x}", ok(), {.openapi = {.responses = {{200}}}});
    r.add(Verb::put, "/a/{y}", ok(), {.openapi = {.responses = {{200}}}});
  });
  // A method OpenAPI has no operation for.
  fails([](Router& r) { r.add(Verb::connect, "/a", ok(), {.openapi = {.responses = {{200}}}}); });
  // A bearer route without a token URL to get the token from.
  Router router;
  router.add(Verb::get, "/a", ok(), {.openapi = {.responses = {{200}}, .bearer = true}});
  Options o = options();
  o.token_url.clear();
  EXPECT_THROW(Builder(o).build(router), std::logic_error);
}

TEST(OpenApiBuilder, OpenApiPathOfTheRoot) {
  Router router;
  router.add(Verb::get, "/", ok());
  EXPECT_EQ(kit::openapi::openapi_path(router.routes()[0]), "/");
}

}  // namespace
