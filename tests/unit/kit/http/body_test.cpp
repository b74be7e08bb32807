// kit::http body readers: JSON bodies (415 for other media types, 400 for malformed JSON,
// invalid UTF-8, duplicate keys and deep nesting), forms and query strings (strict
// percent-decoding, '+' as space, UTF-8, bounded field count).
#include "kit/http/body.hpp"

#include <gtest/gtest.h>

#include <string>

#include "kit/errors/app_error.hpp"

namespace {

using kit::http::FormLimits;
using kit::http::parse_urlencoded;
using kit::http::Request;

Request with_body(std::string content_type, std::string body, std::string target = "/") {
  Request req{kit::http::Verb::post, target, 11};
  if (!content_type.empty()) req.set(kit::http::Field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

unsigned status_of_json(const std::string& content_type, const std::string& body) {
  const Request req = with_body(content_type, body);
  rapidjson::Document doc;
  try {
    kit::http::read_json_body(req, doc);
  } catch (const kit::errors::AppError& e) {
    return e.status();
  }
  return 200;
}

TEST(JsonContentType, AcceptsJsonWithOptionalUtf8Charset) {
  EXPECT_TRUE(kit::http::is_json_content_type("application/json"));
  EXPECT_TRUE(kit::http::is_json_content_type("Application/JSON"));
  EXPECT_TRUE(kit::http::is_json_content_type("application/json; charset=utf-8"));
  EXPECT_TRUE(kit::http::is_json_content_type("application/json;charset=\"UTF-8\""));
  EXPECT_FALSE(kit::http::is_json_content_type("application/json; charset=latin1"));
  EXPECT_FALSE(kit::http::is_json_content_type("text/plain"));
  EXPECT_FALSE(kit::http::is_json_content_type("application/jsonx"));
  EXPECT_FALSE(kit::http::is_json_content_type(""));
}

TEST(JsonBody, ParsesAnObject) {
  const Request req = with_body("application/json", R"({"a":"b","n":1})");
  rapidjson::Document doc;
  kit::http::read_json_body(req, doc);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["a"].GetString(), "b");
}

TEST(JsonBody, WrongOrMissingContentTypeIs415) {
  EXPECT_EQ(status_of_json("text/plain", "{}"), 415u);
  EXPECT_EQ(status_of_json("", "{}"), 415u);
  EXPECT_EQ(status_of_json("application/x-www-form-urlencoded", "a=b"), 415u);
  EXPECT_EQ(status_of_json("application/json; charset=iso-8859-1", "{}"), 415u);
}

TEST(JsonBody, MalformedInputIs400) {
  EXPECT_EQ(status_of_json("application/json", ""), 400u);
  EXPECT_EQ(status_of_json("application/json", "{"), 400u);
  EXPECT_EQ(status_of_json("application/json", R"({"a":1,})"), 400u);
  EXPECT_EQ(status_of_json("application/json", R"({"a":1} trailing)"), 400u);
  EXPECT_EQ(status_of_json("application/json", "{\"a\":\"\xff\"}"), 400u) << "invalid UTF-8";
  EXPECT_EQ(status_of_json("application/json", "{\"a\":\"\xc0\xaf\"}"), 400u) << "overlong";
  EXPECT_EQ(status_of_json("application/json", R"({"a":1,"a":2})"), 400u) << "duplicate key";
  EXPECT_EQ(status_of_json("application/json", std::string(100, '[') + std::string(100, ']')), 400u)
      << "too deep";
}

TEST(JsonBody, EscapedLoneSurrogateIs400LikeRawInvalidBytes) {
  EXPECT_EQ(status_of_json("application/json", R"({"name":"\udc00"})"), 400u);
  EXPECT_EQ(status_of_json("application/json", R"({"\udc00":"x"})"), 400u);
  EXPECT_EQ(status_of_json("application/json", R"({"name":"\ud83d\ude00"})"), 200u);
}

TEST(JsonBody, MalformedMessageDoesNotEchoInput) {
  const Request req = with_body("application/json", R"({"password":"hunter2hunter2",})");
  rapidjson::Document doc;
  try {
    kit::http::read_json_body(req, doc);
    FAIL() << "expected BadRequest";
  } catch (const kit::errors::BadRequest& e) {
    EXPECT_EQ(std::string(e.message()).find("hunter2"), std::string::npos);
  }
}

TEST(Urlencoded, DecodesPlusAndPercent) {
  const auto f = parse_urlencoded("username=a%40b.co&password=x+y%2Bz%21&empty=&flag");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("username"), "a@b.co");
  EXPECT_EQ(f->get("password"), "x y+z!");
  EXPECT_EQ(f->get("empty"), "");
  EXPECT_EQ(f->get("flag"), "");
  EXPECT_FALSE(f->get("missing"));
}

TEST(Urlencoded, DecodesUtf8AndSkipsEmptySegments) {
  const auto f = parse_urlencoded("&&name=J%C3%BCrgen&&");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), 1u);
  EXPECT_EQ(f->get("name"), "J\xc3\xbcrgen");
}

TEST(Urlencoded, RefusesMalformedEscapesAndInvalidUtf8) {
  EXPECT_FALSE(parse_urlencoded("a=%"));
  EXPECT_FALSE(parse_urlencoded("a=%4"));
  EXPECT_FALSE(parse_urlencoded("a=%zz"));
  EXPECT_FALSE(parse_urlencoded("a=%FF"));
  EXPECT_FALSE(parse_urlencoded("%C3=1"));
}

// Percent-decoded bytes are held to the same rule as JSON strings: no surrogate code points
// (ED A0 80..ED BF BF), no overlongs, nothing past U+10FFFF.
TEST(Urlencoded, RefusesDecodedSurrogatesAndOverlongs) {
  EXPECT_FALSE(parse_urlencoded("name=%ED%B0%80")) << "U+DC00";
  EXPECT_FALSE(parse_urlencoded("%ED%A0%80=x")) << "U+D800 in a name";
  EXPECT_FALSE(parse_urlencoded("a=%C0%AF")) << "overlong '/'";
  EXPECT_FALSE(parse_urlencoded("a=%E0%80%AF")) << "overlong, three bytes";
  EXPECT_FALSE(parse_urlencoded("a=%F4%90%80%80")) << "past U+10FFFF";
  const auto f = parse_urlencoded("a=%F0%9F%98%80&b=%ED%9F%BF");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("a"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(f->get("b"), "\xED\x9F\xBF") << "U+D7FF, the last code point before them";
}

TEST(Urlencoded, BoundsFieldsAndOptionallyRefusesDuplicates) {
  std::string many;
  for (int i = 0; i < 65; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_FALSE(parse_urlencoded(many));
  EXPECT_TRUE(parse_urlencoded(many, FormLimits{.max_fields = 100}));
  EXPECT_TRUE(parse_urlencoded("a=1&a=2"));
  EXPECT_FALSE(parse_urlencoded("a=1&a=2", FormLimits{.reject_duplicates = true}));
}

TEST(FormBody, NeedsTheFormContentType) {
  const Request ok = with_body("application/x-www-form-urlencoded; charset=utf-8", "a=1");
  EXPECT_EQ(kit::http::read_form_body(ok).get("a"), "1");
  const Request json = with_body("application/json", "{}");
  EXPECT_THROW(kit::http::read_form_body(json), kit::errors::UnsupportedMediaType);
  const Request bad = with_body("application/x-www-form-urlencoded", "a=%G0");
  EXPECT_THROW(kit::http::read_form_body(bad), kit::errors::BadRequest);
}

TEST(Query, ReadsTheTargetQuery) {
  const Request req = with_body("", "", "/api/v1/users?limit=10&cursor=abc%2D");
  const auto q = kit::http::read_query(req);
  EXPECT_EQ(q.get("limit"), "10");
  EXPECT_EQ(q.get("cursor"), "abc-");
  const Request none = with_body("", "", "/api/v1/users");
  EXPECT_EQ(kit::http::read_query(none).size(), 0u);
  const Request bad = with_body("", "", "/api/v1/users?limit=%");
  EXPECT_THROW(kit::http::read_query(bad), kit::errors::BadRequest);
}

}  // namespace
