#include "kit/config/mask.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kit/config/problems.hpp"

namespace kit::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MaskUrlPassword, PostgresUserAndPassword) {
  EXPECT_EQ(mask_url_password("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(mask_url_password("postgres://app:s3cr%40t@db.internal:5432/users?sslmode=require"),
            "postgres://app:***@db.internal:5432/users?sslmode=require");
}

TEST(MaskUrlPassword, RedisPasswordOnly) {
  EXPECT_EQ(mask_url_password("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
  EXPECT_EQ(mask_url_password("redis://default:pw@h:6379/0"), "redis://default:***@h:6379/0");
}

TEST(MaskUrlPassword, NothingToMask) {
  EXPECT_EQ(mask_url_password("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(mask_url_password("postgresql://h:5432/db"), "postgresql://h:5432/db");
  EXPECT_EQ(mask_url_password("redis://localhost:6379/0"), "redis://localhost:6379/0");
  EXPECT_EQ(mask_url_password("sqlite:///./data/user-service.db"),
            "sqlite:///./data/user-service.db");
  EXPECT_EQ(mask_url_password(""), "");
  EXPECT_EQ(mask_url_password("not a url"), "not a url");
}

TEST(MaskUrlPassword, PasswordQueryParameter) {
  EXPECT_EQ(mask_url_password("postgresql://h/db?user=u&password=secret&sslmode=require"),
            "postgresql://h/db?user=u&password=***&sslmode=require");
  EXPECT_EQ(mask_url_password("postgresql://h/db?PASSWORD=secret#frag"),
            "postgresql://h/db?PASSWORD=***#frag");
}

TEST(MaskUrlPassword, UnencodedSpecialCharactersInThePasswordDoNotLeak) {
  for (const auto* url :
       {"postgresql://u:pa/ss@h/db", "postgresql://u:pa?ss@h/db", "postgresql://u:pa#ss@h/db",
        "postgresql://u:pa@ss@h/db", "redis://:a/b?c#d@h:6379/0"}) {
    const auto masked = mask_url_password(url);
    EXPECT_THAT(masked, Not(HasSubstr("ss@"))) << url;
    EXPECT_THAT(masked, Not(HasSubstr("b?c"))) << url;
    EXPECT_THAT(masked, HasSubstr(":***@")) << url;
  }
}

TEST(RenderValue, PlainIsQuoted) {
  EXPECT_EQ(render_value("abc", Sensitivity::plain), "'abc'");
  EXPECT_EQ(render_value("", Sensitivity::plain), "''");
}

TEST(RenderValue, ControlCharactersAreEscapedSoAProblemStaysOneLine) {
  EXPECT_EQ(render_value("a\nb\tc\\d\x01", Sensitivity::plain), "'a\\nb\\tc\\\\d\\x01'");
}

TEST(RenderValue, LongValuesAreCutAtACharacterBoundary) {
  std::string value(199, 'x');  // built step by step: GCC 12 warns falsely on a + chain here
  value.append("\xC3\xA9");
  value.append(100, 'y');
  const auto shown = render_value(value, Sensitivity::plain);
  std::string expected = "'";
  expected.append(199, 'x');
  expected.append("...'");
  EXPECT_EQ(shown, expected);
}

TEST(RenderValue, SecretsShowOnlyTheirLength) {
  EXPECT_EQ(render_value("short", Sensitivity::secret), "a 5-byte value");
  EXPECT_EQ(render_value("", Sensitivity::secret), "a 0-byte value");
}

TEST(RenderValue, CredentialUrlsAreMasked) {
  EXPECT_EQ(render_value("postgresql://u:secret@h/db", Sensitivity::credentials_url),
            "'postgresql://u:***@h/db'");
  // Without a scheme nothing says where a password would be: only the length is shown.
  EXPECT_EQ(render_value("host=h password=secret", Sensitivity::credentials_url),
            "a 22-byte value");
}

TEST(FormatProblem, Shapes) {
  EXPECT_EQ(format_problem("PORT", "must be an integer from 0 to 65535", "abc", Sensitivity::plain),
            "PORT: must be an integer from 0 to 65535 (got 'abc')");
  EXPECT_EQ(format_problem("DATABASE_URL", "is required", std::nullopt, Sensitivity::plain),
            "DATABASE_URL: is required (not set)");
  EXPECT_EQ(format_problem("JWT_SECRET", "must be at least 32 bytes", "short", Sensitivity::secret),
            "JWT_SECRET: must be at least 32 bytes (got a 5-byte value)");
}

}  // namespace
}  // namespace kit::config
