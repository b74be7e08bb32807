#pragma once
// Parses JSON in tests (responses, log lines) with RapidJSON, failing the test on bad JSON.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace e2e {

inline rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << text;
  return doc;
}

inline std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "<missing>";
  return std::string(v[key].GetString(), v[key].GetStringLength());
}

}  // namespace e2e
