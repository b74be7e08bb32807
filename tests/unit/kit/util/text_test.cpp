// kit/util/text.hpp: ASCII case, percent-decoding and control characters, the one copy every
// layer uses (settings, headers, URLs, user fields).
#include "kit/util/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kit::util {
namespace {

TEST(Text, AsciiCase) {
  EXPECT_EQ(ascii_uppercase("log_Level1"), "LOG_LEVEL1");
  EXPECT_EQ(ascii_lowercase("LOG_Level1"), "log_level1");
  EXPECT_EQ(ascii_lowercase("\xc3\x9cNI@X.io"), "\xc3\x9cni@x.io");  // only ASCII letters fold
  EXPECT_TRUE(iequals_ascii("Production", "PRODUCTION"));
  EXPECT_TRUE(iequals_ascii("Bearer", "bEARER"));
  EXPECT_FALSE(iequals_ascii("prod", "production"));
  EXPECT_FALSE(iequals_ascii("\xc3\xbc", "\xc3\x9c"));  // no Unicode folding
}

TEST(Text, ControlCharactersC0DelAndC1) {
  EXPECT_FALSE(has_control_characters("Ada Lovelace \xc3\xbc"));
  EXPECT_TRUE(has_control_characters(std::string("a\0b", 3)));
  EXPECT_TRUE(has_control_characters("a\tb"));
  EXPECT_TRUE(has_control_characters("a\x7f"));
  EXPECT_TRUE(has_control_characters("a\xc2\x85"));   // NEL (C1)
  EXPECT_TRUE(has_control_characters("a\xc2\x9f"));   // the last C1
  EXPECT_FALSE(has_control_characters("a\xc2\xa0"));  // NBSP is not a control
  EXPECT_FALSE(has_control_characters("a\xc2"));      // a cut sequence is not a control
}

TEST(Text, PercentDecode) {
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_EQ(percent_decode("%41"), "A");
  EXPECT_EQ(percent_decode("a%2fb%2Fc"), "a/b/c");
  EXPECT_EQ(percent_decode("%20x%20"), " x ");
  EXPECT_EQ(percent_decode("a+b"), "a+b");  // '+' is only a space in form bodies
  EXPECT_EQ(percent_decode("%00"), std::string("\0", 1));
  EXPECT_EQ(percent_decode("%E2%82%AC"), "\xE2\x82\xAC");
  EXPECT_EQ(percent_decode("%25%32%35"), "%25");  // decoded once, not twice
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("abc%4"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("%4g"));
  EXPECT_FALSE(percent_decode("%g4"));
  EXPECT_FALSE(percent_decode("ok%"));
}

}  // namespace
}  // namespace kit::util
