#include "kit/config/parse.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace kit::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Parse, Trim) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t "), "");
}

TEST(Parse, BoolAcceptsEveryDocumentedSpelling) {
  for (const auto* t : {"true", "TRUE", "True", "1", "yes", "YES", "on", "On", " true "})
    EXPECT_EQ(parse_bool(t), true) << t;
  for (const auto* f : {"false", "FALSE", "0", "no", "No", "off", "OFF", "\tfalse"})
    EXPECT_EQ(parse_bool(f), false) << f;
}

TEST(Parse, BoolRefusesEverythingElse) {
  for (const auto* bad : {"", "y", "n", "t", "f", "2", "-1", "enabled", "truee", "01"})
    EXPECT_EQ(parse_bool(bad), std::nullopt) << bad;
}

TEST(Parse, Integer) {
  EXPECT_EQ(parse_integer("0"), 0);
  EXPECT_EQ(parse_integer(" 8000 "), 8000);
  EXPECT_EQ(parse_integer("+5"), 5);
  EXPECT_EQ(parse_integer("-5"), -5);
  EXPECT_EQ(parse_integer("007"), 7);
  EXPECT_EQ(parse_integer("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_integer("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
}

TEST(Parse, IntegerRefusesJunkAndOverflow) {
  for (const auto* bad : {"", "abc", "1.0", "1e3", "12abc", "0x10", "+-1", "--1", "+", "1 2",
                          "9223372036854775808", "-9223372036854775809", "99999999999999999999999"})
    EXPECT_EQ(parse_integer(bad), std::nullopt) << bad;
}

TEST(Parse, SecondsAsDecimals) {
  EXPECT_EQ(parse_seconds("30"), 30s);
  EXPECT_EQ(parse_seconds("0"), 0ms);
  EXPECT_EQ(parse_seconds("2.5"), 2500ms);
  EXPECT_EQ(parse_seconds("0.25"), 250ms);
  EXPECT_EQ(parse_seconds(".5"), 500ms);
  EXPECT_EQ(parse_seconds("0.001"), 1ms);
  EXPECT_EQ(parse_seconds("0.0004"), 0ms);  // rounds to the nearest millisecond
  EXPECT_EQ(parse_seconds("0.0005"), 1ms);
  EXPECT_EQ(parse_seconds("1.9999"), 2000ms);
  EXPECT_EQ(parse_seconds(" 75 "), 75s);
  EXPECT_EQ(parse_seconds("000010"), 10s);
}

TEST(Parse, SecondsRefusesJunk) {
  for (const auto* bad : {"", ".", "5.", "-1", "+1", "1e3", "inf", "nan", "0x10", "1,5", "1.2.3",
                          "abc", "5s", "99999999999999999999999999"})
    EXPECT_EQ(parse_seconds(bad), std::nullopt) << bad;
}

TEST(Parse, SecondsHonoursTheMaximum) {
  EXPECT_EQ(parse_seconds("100", 100), 100s);
  EXPECT_EQ(parse_seconds("100.001", 100), std::nullopt);
  EXPECT_EQ(parse_seconds("101", 100), std::nullopt);
}

TEST(Parse, SplitList) {
  EXPECT_THAT(split_list("a,b,c"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(split_list(" a , b ,, c ,"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(split_list(""), IsEmpty());
  EXPECT_THAT(split_list(" , ,"), IsEmpty());
  EXPECT_THAT(split_list("*"), ElementsAre("*"));
}

TEST(Parse, FormatSeconds) {
  EXPECT_EQ(format_seconds(30s), "30");
  EXPECT_EQ(format_seconds(2500ms), "2.5");
  EXPECT_EQ(format_seconds(1ms), "0.001");
  EXPECT_EQ(format_seconds(1020ms), "1.02");
  EXPECT_EQ(format_seconds(0ms), "0");
}

}  // namespace
}  // namespace kit::config
