#include "kit/otlp/otlp_json.hpp"

#include <rapidjson/document.h>

#include <string>

#include <gtest/gtest.h>

#include "kit/otlp/encode.hpp"

namespace {

using namespace kit::otlp;
using namespace kit::trace;

SpanData server_span() {
  SpanData s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "00f067aa0ba902b7";
  s.parent_span_id = "b7ad6b7169203331";
  s.name = "GET /api/v1/users/me";
  s.kind = SpanKind::server;
  s.start_unix_nano = 1'765'000'000'123'456'789ULL;
  s.end_unix_nano = 1'765'000'000'124'000'000ULL;
  s.attributes = {{"http.request.method", std::string("GET")},
                  {"http.response.status_code", std::int64_t{503}},
                  {"sampled.ratio", 0.25},
                  {"retry", true}};
  s.status = StatusCode::error;
  s.status_message = "Database unavailable";
  return s;
}

TEST(OtlpJson, WritesTheProtocolsJsonMappingOfASpan) {
  const std::vector<Attribute> resource{{"service.name", std::string("users \"x\"")}};
  const std::vector<SpanData> spans{server_span()};
  const std::string out = encode(Encoding::json, resource, Scope{"user-service", "0.1.0"}, spans);
  rapidjson::Document d;
  d.Parse(out.c_str(), out.size());
  ASSERT_FALSE(d.HasParseError()) << out;
  const auto& rs = d["resourceSpans"][0];
  EXPECT_STREQ(rs["resource"]["attributes"][0]["key"].GetString(), "service.name");
  EXPECT_STREQ(rs["resource"]["attributes"][0]["value"]["stringValue"].GetString(), "users \"x\"");
  const auto& ss = rs["scopeSpans"][0];
  EXPECT_STREQ(ss["scope"]["name"].GetString(), "user-service");
  EXPECT_STREQ(ss["scope"]["version"].GetString(), "0.1.0");
  const auto& span = ss["spans"][0];
  EXPECT_STREQ(span["traceId"].GetString(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_STREQ(span["spanId"].GetString(), "00f067aa0ba902b7");
  EXPECT_STREQ(span["parentSpanId"].GetString(), "b7ad6b7169203331");
  EXPECT_STREQ(span["name"].GetString(), "GET /api/v1/users/me");
  EXPECT_EQ(span["kind"].GetInt(), 2);
  // 64-bit integers are decimal strings in the JSON mapping.
  EXPECT_STREQ(span["startTimeUnixNano"].GetString(), "1765000000123456789");
  EXPECT_STREQ(span["endTimeUnixNano"].GetString(), "1765000000124000000");
  const auto& attrs = span["attributes"];
  ASSERT_EQ(attrs.Size(), 4U);
  EXPECT_STREQ(attrs[0]["value"]["stringValue"].GetString(), "GET");
  EXPECT_STREQ(attrs[1]["value"]["intValue"].GetString(), "503");
  EXPECT_DOUBLE_EQ(attrs[2]["value"]["doubleValue"].GetDouble(), 0.25);
  EXPECT_TRUE(attrs[3]["value"]["boolValue"].GetBool());
  EXPECT_EQ(span["status"]["code"].GetInt(), 2);
  EXPECT_STREQ(span["status"]["message"].GetString(), "Database unavailable");
}

TEST(OtlpJson, ARootSpanHasNoParentAndAnUnsetStatusHasNoCode) {
  SpanData s = server_span();
  s.parent_span_id.clear();
  s.status = StatusCode::unset;
  const std::vector<SpanData> spans{s};
  const std::string out = encode(Encoding::json, {}, Scope{"x", "1"}, spans);
  rapidjson::Document d;
  d.Parse(out.c_str(), out.size());
  ASSERT_FALSE(d.HasParseError()) << out;
  const auto& span = d["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_FALSE(span.HasMember("parentSpanId"));
  EXPECT_TRUE(span["status"].IsObject());
  EXPECT_EQ(span["status"].MemberCount(), 0U);
}

TEST(ResourceAttributes, ParsesPercentEncodedPairs) {
  std::string error;
  const auto attrs =
      parse_resource_attributes("deployment.environment=production,team=core%2Cplatform", error);
  ASSERT_TRUE(attrs) << error;
  ASSERT_EQ(attrs->size(), 2U);
  EXPECT_EQ((*attrs)[0].key, "deployment.environment");
  EXPECT_EQ(std::get<std::string>((*attrs)[0].value), "production");
  EXPECT_EQ(std::get<std::string>((*attrs)[1].value), "core,platform");
  EXPECT_TRUE(parse_resource_attributes("", error)->empty());
}

TEST(ResourceAttributes, RefusesEntriesWithoutAKeyOrValue) {
  for (const char* bad : {"novalue", "=x", "a=1,,b=2", "a=%zz"}) {
    std::string error;
    EXPECT_FALSE(parse_resource_attributes(bad, error)) << bad;
    EXPECT_NE(error.find("OTEL_RESOURCE_ATTRIBUTES"), std::string::npos);
  }
}

}  // namespace
