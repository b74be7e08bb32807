#include "kit/security/strict_json.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using kit::security::parse_strict_json;
using kit::security::StrictJsonLimits;

bool parses(std::string_view text, const StrictJsonLimits& limits = {}) {
  rapidjson::Document doc;
  return parse_strict_json(text, doc, limits);
}

TEST(StrictJson, ParsesAnObjectIntoTheDocument) {
  rapidjson::Document doc;
  ASSERT_TRUE(parse_strict_json(R"({"a":1,"b":[true,null,"x"],"c":{"d":-2.5}})", doc));
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(doc["a"].GetInt64(), 1);
  EXPECT_EQ(doc["b"].Size(), 3U);
  EXPECT_STREQ(doc["b"][2].GetString(), "x");
  EXPECT_DOUBLE_EQ(doc["c"]["d"].GetDouble(), -2.5);
}

TEST(StrictJson, RejectsDuplicateKeys) {
  EXPECT_FALSE(parses(R"({"a":1,"a":2})"));
  EXPECT_FALSE(parses(R"({"x":{"a":1,"a":1}})"));
  EXPECT_FALSE(parses(R"([{"a":1,"b":2,"a":3}])"));
  // The same key in different objects is fine.
  EXPECT_TRUE(parses(R"({"a":{"a":1},"b":{"a":2}})"));
}

TEST(StrictJson, RejectsInvalidUtf8) {
  EXPECT_FALSE(parses("{\"a\":\"\xFF\"}"));
  EXPECT_FALSE(parses("{\"a\":\"\xC0\xAF\"}"));  // overlong '/'
  EXPECT_FALSE(parses("{\"\xED\xA0\x80\":1}"));  // UTF-16 surrogate in a key
  EXPECT_TRUE(parses("{\"a\":\"\xC3\xA9\"}"));
}

// RapidJSON checks the raw bytes only: a `\u` escape of a lone surrogate decodes to ED B0 80
// (or ED A0 80...), which is not UTF-8. Strings and keys are both checked after decoding.
TEST(StrictJson, RejectsEscapesThatDecodeToALoneSurrogate) {
  EXPECT_FALSE(parses(R"({"name":"\udc00"})")) << "lone low surrogate";
  EXPECT_FALSE(parses(R"({"name":"ab\udfffcd"})")) << "lone low surrogate inside text";
  EXPECT_FALSE(parses(R"({"\udc00":1})")) << "in a key";
  EXPECT_FALSE(parses(R"({"a":["x",{"b":"\udc80"}]})")) << "nested";
  EXPECT_FALSE(parses(R"({"a":"\ude00\ud83d"})")) << "a pair in the wrong order";
  EXPECT_FALSE(parses(R"({"a":"\ud800"})")) << "lone high surrogate";
  EXPECT_FALSE(parses(R"({"a":"\ud800\u0041"})")) << "high surrogate without its low half";
}

TEST(StrictJson, AcceptsSurrogatePairsAndOtherEscapes) {
  rapidjson::Document doc;
  ASSERT_TRUE(parse_strict_json(R"({"a":"\ud83d\ude00","\u00e9":"\u20ac\uffff"})", doc));
  EXPECT_STREQ(doc["a"].GetString(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_STREQ(doc["\xC3\xA9"].GetString(), "\xE2\x82\xAC\xEF\xBF\xBF");
  EXPECT_TRUE(parses(R"({"a":"\ud7ff\ue000"})")) << "just outside the surrogate range";
}

TEST(StrictJson, EnforcesTheDepthLimit) {
  const StrictJsonLimits limits{.max_bytes = 1024, .max_depth = 3};
  EXPECT_TRUE(parses(R"({"a":{"b":[1]}})", limits));
  EXPECT_FALSE(parses(R"({"a":{"b":[[1]]}})", limits));
  EXPECT_FALSE(parses(std::string(100000, '[') + std::string(100000, ']'),
                      {.max_bytes = 1 << 20, .max_depth = 32}));
}

TEST(StrictJson, EnforcesTheSizeLimit) {
  const std::string text = R"({"a":"0123456789"})";
  EXPECT_TRUE(parses(text, {.max_bytes = text.size(), .max_depth = 4}));
  EXPECT_FALSE(parses(text, {.max_bytes = text.size() - 1, .max_depth = 4}));
}

TEST(StrictJson, RejectsTrailingContentIncludingAfterNul) {
  EXPECT_FALSE(parses(R"({"a":1} x)"));
  EXPECT_FALSE(parses(R"({"a":1}{})"));
  EXPECT_FALSE(parses(std::string("{\"a\":1}\0{}", 10)));
  EXPECT_FALSE(parses(std::string("{\"a\":1}\0", 8)));
}

TEST(StrictJson, RejectsNonStandardSyntax) {
  EXPECT_FALSE(parses(""));
  EXPECT_FALSE(parses(R"({"a":1,})"));
  EXPECT_FALSE(parses(R"({"a":1 /* c */})"));
  EXPECT_FALSE(parses(R"({"a":NaN})"));
  EXPECT_FALSE(parses(R"({'a':1})"));
  EXPECT_FALSE(parses(R"({"a":01})"));
}

}  // namespace
