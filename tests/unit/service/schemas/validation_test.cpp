// The FieldSpec-driven validation helpers: code points, Unicode trimming, control characters
// and the email rules of docs/http-api.md ("User fields").
#include "service/schemas/validation.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace user_service::schemas;

TEST(CodePoints, CountsCharactersNotBytes) {
  EXPECT_EQ(code_points(""), 0u);
  EXPECT_EQ(code_points("abc"), 3u);
  EXPECT_EQ(code_points("J\xc3\xbcrgen"), 6u);
  EXPECT_EQ(code_points("\xf0\x9f\x98\x80"), 1u);  // U+1F600
}

TEST(TrimUnicode, RemovesAsciiAndUnicodeSpacesAtBothEnds) {
  EXPECT_EQ(trim_unicode("  a b \t\n"), "a b");
  EXPECT_EQ(trim_unicode("\xc2\xa0x\xe3\x80\x80"), "x");  // NBSP, ideographic space
  EXPECT_EQ(trim_unicode("   "), "");
  EXPECT_EQ(trim_unicode("\xc3\xbc"), "\xc3\xbc");
}

TEST(Email, AcceptsOrdinaryAddresses) {
  EXPECT_TRUE(is_valid_email("ada@example.com"));
  EXPECT_TRUE(is_valid_email("a.b+tag@sub.example-domain.co"));
  EXPECT_TRUE(is_valid_email("ADA@EXAMPLE.COM"));
  EXPECT_TRUE(is_valid_email("x@" + std::string(63, 'a') + ".io"));
}

TEST(Email, RefusesWhatSpecForbids) {
  EXPECT_FALSE(is_valid_email("no-at.example.com"));
  EXPECT_FALSE(is_valid_email("a@@example.com"));
  EXPECT_FALSE(is_valid_email("a@b@example.com"));
  EXPECT_FALSE(is_valid_email("@example.com")) << "empty local part";
  EXPECT_FALSE(is_valid_email("ada@localhost")) << "domain needs a dot";
  EXPECT_FALSE(is_valid_email("ada@-example.com")) << "leading hyphen";
  EXPECT_FALSE(is_valid_email("ada@example-.com")) << "trailing hyphen";
  EXPECT_FALSE(is_valid_email("ada@exa_mple.com")) << "underscore";
  EXPECT_FALSE(is_valid_email("ada@example..com")) << "empty label";
  EXPECT_FALSE(is_valid_email("ada@.example.com"));
  EXPECT_FALSE(is_valid_email("ada@example.com."));
  EXPECT_FALSE(is_valid_email("x@" + std::string(64, 'a') + ".io")) << "label > 63";
  EXPECT_FALSE(is_valid_email("a b@example.com"));
  EXPECT_FALSE(is_valid_email("ada@ex ample.com"));
  EXPECT_FALSE(is_valid_email("ada@\xc3\xbc.com")) << "labels are letters, digits, hyphens";
}

TEST(Validator, CheckStringReportsOneDetailPerField) {
  Validator v;
  FieldSpec spec{.name = "pw", .min_length = 8, .max_length = 10};
  EXPECT_FALSE(v.check_string("short", spec));
  EXPECT_FALSE(v.check_string("much too long", spec));
  EXPECT_EQ(v.check_string("12345678", spec), "12345678");
  ASSERT_EQ(v.details().size(), 2u);
  EXPECT_EQ(v.details()[0].code, "too_short");
  EXPECT_EQ(v.details()[0].field, "pw");
  EXPECT_EQ(v.details()[1].code, "too_long");
  EXPECT_THROW(v.throw_if_failed(), kit::errors::ValidationError);
}

TEST(Validator, QueryIntegers) {
  FieldSpec limit{.name = "limit",
                  .type = FieldType::integer,
                  .required = false,
                  .minimum = 1,
                  .maximum = 100,
                  .default_integer = 50};
  kit::http::FormFields none;
  Validator v;
  EXPECT_EQ(v.integer(none, limit), 50);
  for (const char* bad : {"abc", "", "1.5", "10x", "-"}) {
    kit::http::FormFields f;
    f.add("limit", bad);
    Validator v2;
    EXPECT_FALSE(v2.integer(f, limit)) << bad;
    ASSERT_EQ(v2.details().size(), 1u);
    EXPECT_EQ(v2.details()[0].code, "invalid_type") << bad;
  }
  for (const char* out : {"0", "101", "-5", "99999999999999999999"}) {
    kit::http::FormFields f;
    f.add("limit", out);
    Validator v2;
    EXPECT_FALSE(v2.integer(f, limit)) << out;
    ASSERT_EQ(v2.details().size(), 1u);
  }
  kit::http::FormFields ok;
  ok.add("limit", "100");
  EXPECT_EQ(v.integer(ok, limit), 100);
  EXPECT_TRUE(v.ok());
}

}  // namespace
