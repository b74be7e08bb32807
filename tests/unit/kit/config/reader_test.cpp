#include "kit/config/reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kit/config/error.hpp"

namespace kit::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

enum class Color { red, green };
constexpr kit::util::EnumNames<Color, 2> kColorNames{{"red", "green"}};

TEST(Reader, FallbacksWhenNotSet) {
  const auto source = Source::from({});
  Reader r(source);
  EXPECT_EQ(r.text("NAME", "dflt"), "dflt");
  EXPECT_TRUE(r.boolean("FLAG", true));
  EXPECT_EQ(r.integer<int>("N", 7, 0, 10), 7);
  EXPECT_EQ(r.seconds("T", 5s, {.min = 1ms}), 5s);
  EXPECT_EQ(r.milliseconds("M", 100ms, {}), 100ms);
  EXPECT_EQ(r.one_of("C", Color::green, kColorNames), Color::green);
  EXPECT_THAT(r.list("L", {"x"}), ElementsAre("x"));
  EXPECT_TRUE(r.problems().empty());
  EXPECT_NO_THROW(r.throw_if_any());
}

TEST(Reader, BlankScalarsCountAsNotSet) {
  const auto source = Source::from({{"N", ""}, {"FLAG", "  "}, {"NAME", ""}});
  Reader r(source);
  EXPECT_EQ(r.integer<int>("N", 7, 0, 10), 7);
  EXPECT_FALSE(r.boolean("FLAG", false));
  EXPECT_EQ(r.text("NAME", "dflt"), "dflt");
  EXPECT_FALSE(r.is_set("N"));
  EXPECT_EQ(r.raw("N"), "");
  EXPECT_TRUE(r.problems().empty());
}

TEST(Reader, SetButEmptyListIsEmpty) {
  const auto source = Source::from({{"L", ""}});
  Reader r(source);
  EXPECT_THAT(r.list("L", {"*"}), IsEmpty());
  EXPECT_THAT(r.list("OTHER", {"*"}), ElementsAre("*"));
}

TEST(Reader, ParsesValues) {
  const auto source = Source::from({{"NAME", " keep spaces "},
                                    {"FLAG", "Yes"},
                                    {"N", "10"},
                                    {"T", "1.5"},
                                    {"M", "250"},
                                    {"C", "RED"},
                                    {"L", "a, b"}});
  Reader r(source);
  EXPECT_EQ(r.text("NAME", ""), " keep spaces ");
  EXPECT_TRUE(r.boolean("FLAG", false));
  EXPECT_EQ(r.integer<unsigned>("N", 1, 0, 10), 10u);
  EXPECT_EQ(r.seconds("T", 5s, {.min = 1ms}), 1500ms);
  EXPECT_EQ(r.milliseconds("M", 0ms, {}), 250ms);
  EXPECT_EQ(r.one_of("C", Color::green, kColorNames), Color::red);
  EXPECT_THAT(r.list("L", {}), ElementsAre("a", "b"));
  EXPECT_TRUE(r.problems().empty());
}

TEST(Reader, BadValuesRecordProblemsAndReturnTheFallback) {
  const auto source = Source::from(
      {{"FLAG", "maybe"}, {"N", "11"}, {"T", "0"}, {"M", "-1"}, {"C", "blue"}, {"BIG", "70000"}});
  Reader r(source);
  EXPECT_TRUE(r.boolean("FLAG", true));
  EXPECT_EQ(r.integer<int>("N", 7, 0, 10), 7);
  EXPECT_EQ(r.seconds("T", 5s, {.min = 1ms, .max = 60s}), 5s);
  EXPECT_EQ(r.milliseconds("M", 9ms, {.min = 0ms, .max = 1000ms}), 9ms);
  EXPECT_EQ(r.one_of("C", Color::green, kColorNames), Color::green);
  EXPECT_EQ(r.integer<std::uint16_t>("BIG", 1, 0, 65535), 1);
  EXPECT_THAT(
      r.problems().lines(),
      ElementsAre(
          "FLAG: must be a boolean: true/false, 1/0, yes/no or on/off (got 'maybe')",
          "N: must be an integer from 0 to 10 (got '11')",
          "T: must be a number of seconds greater than 0 and at most 60 (got '0')",
          "M: must be a whole number of milliseconds at least 0 and at most 1000 (got '-1')",
          "C: must be one of red or green (got 'blue')",
          "BIG: must be an integer from 0 to 65535 (got '70000')"));
  try {
    r.throw_if_any();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.problems().size(), 6u);
  }
}

TEST(Reader, SecondsRange) {
  const auto source = Source::from({{"A", "0"}, {"B", "86400"}, {"C", "86400.5"}, {"D", "2"}});
  Reader r(source);
  EXPECT_EQ(r.seconds("A", 1s, {.min = 0ms, .max = 24h}), 0ms);
  EXPECT_EQ(r.seconds("B", 1s, {.min = 0ms, .max = 24h}), 24h);
  EXPECT_EQ(r.seconds("C", 1s, {.min = 0ms, .max = 24h}), 1s);
  EXPECT_EQ(r.seconds("D", 1s, {.min = 5s, .max = 24h}), 1s);
  EXPECT_THAT(r.problems().lines(),
              ElementsAre(HasSubstr("C: must be a number of seconds at least 0 and at most 86400"),
                          HasSubstr("D: must be a number of seconds at least 5 and at most")));
}

TEST(Reader, SizeTypesAboveInt64AreClamped) {
  const auto source = Source::from({{"N", "18446744073709551615"}});
  Reader r(source);
  EXPECT_EQ(r.integer<std::uint64_t>("N", 1, 0, std::numeric_limits<std::uint64_t>::max()), 1u);
  EXPECT_EQ(r.problems().lines().size(), 1u);
}

TEST(Reader, ProblemsAboutSecretsNeverShowTheValue) {
  const auto source = Source::from({{"API_KEY", "hunter2"}, {"DB", "postgresql://u:hunter3@h/d"}});
  Reader r(source);
  r.sensitive("api_key", Sensitivity::secret).sensitive("DB", Sensitivity::credentials_url);
  r.problem("API_KEY", "is too short");
  r.problem("DB", "is wrong");
  r.integer<int>("API_KEY", 0, 0, 1);
  EXPECT_THAT(r.problems().lines(),
              ElementsAre("API_KEY: is too short (got a 7-byte value)",
                          "DB: is wrong (got 'postgresql://u:***@h/d')",
                          "API_KEY: must be an integer from 0 to 1 (got a 7-byte value)"));
}

TEST(Reader, ProblemAboutAnUnsetSetting) {
  const auto source = Source::from({});
  Reader r(source);
  r.problem("DATABASE_URL", "is required");
  r.problem_without_value("X", "does not fit Y");
  EXPECT_THAT(r.problems().lines(),
              ElementsAre("DATABASE_URL: is required (not set)", "X: does not fit Y"));
}

TEST(Reader, NamesAreCaseInsensitive) {
  const auto source = Source::from({{"port", "1"}});
  Reader r(source);
  EXPECT_EQ(r.integer<int>("PORT", 0, 0, 10), 1);
}

TEST(Reader, DotenvValuesAreRead) {
  const auto source = Source::from({}, "export N=3 # three\n");
  Reader r(source);
  EXPECT_EQ(r.integer<int>("n", 0, 0, 10), 3);
  EXPECT_TRUE(r.problems().empty());
}

}  // namespace
}  // namespace kit::config
