#include "kit/config/dotenv.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kit/config/error.hpp"

namespace kit::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string value_of(std::string_view content) {
  const auto entries = parse_dotenv(content, ".env");
  EXPECT_EQ(entries.size(), 1u);
  return entries.empty() ? std::string("<none>") : entries.front().value;
}

std::vector<std::string> problems_of(std::string_view content, std::string_view name = ".env") {
  try {
    parse_dotenv(content, name);
  } catch (const ConfigError& e) {
    return e.problems();
  }
  ADD_FAILURE() << "no ConfigError for: " << content;
  return {};
}

TEST(Dotenv, PlainKeyValue) {
  const auto entries = parse_dotenv("PORT=8000\nHOST=127.0.0.1\n", ".env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "PORT");
  EXPECT_EQ(entries[0].value, "8000");
  EXPECT_EQ(entries[0].line, 1u);
  EXPECT_EQ(entries[1].key, "HOST");
  EXPECT_EQ(entries[1].value, "127.0.0.1");
  EXPECT_EQ(entries[1].line, 2u);
}

TEST(Dotenv, KeysKeepTheirSpelling) {
  const auto entries = parse_dotenv("log_level=debug", ".env");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].key, "log_level");
}

TEST(Dotenv, BlankLinesAndCommentsAreSkippedButCounted) {
  const auto entries = parse_dotenv("# a comment\n\n   \n\t# indented comment\nA=1\n", ".env");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].line, 5u);
}

TEST(Dotenv, WhitespaceAroundKeyAndEqualsIsTolerated) {
  const auto entries = parse_dotenv("  A = 1  \n\tB\t=\t2\t\n", ".env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "A");
  EXPECT_EQ(entries[0].value, "1");
  EXPECT_EQ(entries[1].key, "B");
  EXPECT_EQ(entries[1].value, "2");
}

TEST(Dotenv, ExportPrefix) {
  const auto entries = parse_dotenv("export A=1\nexport\tB=2\n  export   C = 3\n", ".env");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].key, "A");
  EXPECT_EQ(entries[1].key, "B");
  EXPECT_EQ(entries[2].key, "C");
  EXPECT_EQ(entries[2].value, "3");
}

TEST(Dotenv, KeyNamedExportIsAKey) {
  const auto entries = parse_dotenv("export=1\nexportX=2\n", ".env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "export");
  EXPECT_EQ(entries[1].key, "exportX");
}

TEST(Dotenv, EmptyValue) {
  EXPECT_EQ(value_of("A="), "");
  EXPECT_EQ(value_of("A=   "), "");
  EXPECT_EQ(value_of("A=''"), "");
  EXPECT_EQ(value_of("A=\"\""), "");
}

TEST(Dotenv, UnquotedValueKeepsInnerSpacesAndEquals) {
  EXPECT_EQ(value_of("A=hello world"), "hello world");
  EXPECT_EQ(value_of("A=postgresql://u:p@h/db?sslmode=require"),
            "postgresql://u:p@h/db?sslmode=require");
  EXPECT_EQ(value_of("A=a=b=c"), "a=b=c");
}

TEST(Dotenv, TrailingCommentNeedsABlankBeforeTheHash) {
  EXPECT_EQ(value_of("A=value # comment"), "value");
  EXPECT_EQ(value_of("A=value\t# comment"), "value");
  EXPECT_EQ(value_of("A=pa#ss"), "pa#ss");
  EXPECT_EQ(value_of("A=#notacomment"), "#notacomment");
  EXPECT_EQ(value_of("A= # only a comment"), "");
}

TEST(Dotenv, SingleQuotesAreLiteral) {
  EXPECT_EQ(value_of(R"(A='a # b')"), "a # b");
  EXPECT_EQ(value_of(R"(A='a\nb')"), R"(a\nb)");
  EXPECT_EQ(value_of(R"(A='say "hi"')"), R"(say "hi")");
  EXPECT_EQ(value_of(R"(A=  '  padded  '  )"), "  padded  ");
  EXPECT_EQ(value_of(R"(A='x' # comment)"), "x");
}

TEST(Dotenv, DoubleQuotesUnderstandEscapes) {
  EXPECT_EQ(value_of(R"(A="line1\nline2")"), "line1\nline2");
  EXPECT_EQ(value_of(R"(A="a\tb")"), "a\tb");
  EXPECT_EQ(value_of(R"(A="a\rb")"), "a\rb");
  EXPECT_EQ(value_of(R"(A="say \"hi\"")"), R"(say "hi")");
  EXPECT_EQ(value_of(R"(A="back\\slash")"), R"(back\slash)");
  EXPECT_EQ(value_of(R"(A="C:\Users\x")"), R"(C:\Users\x)");  // unknown escapes kept
  EXPECT_EQ(value_of(R"(A="a # b")"), "a # b");
  EXPECT_EQ(value_of(R"(A="x"   # comment)"), "x");
  EXPECT_EQ(value_of(R"(A="it's")"), "it's");
}

TEST(Dotenv, CrlfLineEndingsAndBom) {
  const auto entries = parse_dotenv(
      "\xEF\xBB\xBF"
      "A=1\r\nB=\"2\"\r\n",
      ".env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "A");
  EXPECT_EQ(entries[0].value, "1");
  EXPECT_EQ(entries[1].value, "2");
}

TEST(Dotenv, LastLineWithoutNewline) {
  const auto entries = parse_dotenv("A=1\nB=2", ".env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].value, "2");
}

TEST(Dotenv, DuplicatesAreAllReturnedInOrder) {
  const auto entries = parse_dotenv("A=1\nA=2\n", ".env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].value, "2");
}

TEST(Dotenv, MissingEqualsIsAnErrorWithFileAndLine) {
  EXPECT_THAT(problems_of("A=1\n\n# c\nJUSTAWORD\n"), ElementsAre(".env:4: expected KEY=VALUE"));
  EXPECT_THAT(problems_of("export FOO\n"), ElementsAre(".env:1: expected KEY=VALUE"));
  EXPECT_THAT(problems_of("=value\n"), ElementsAre(".env:1: expected KEY=VALUE"));
}

TEST(Dotenv, BadKeysAreErrors) {
  for (const auto* line : {"1A=x", "MY KEY=x", "A-B=x", "A.B=x", "ÄÖ=x", "$A=x"}) {
    const auto problems = problems_of(line);
    ASSERT_EQ(problems.size(), 1u) << line;
    EXPECT_THAT(problems[0], HasSubstr(".env:1: invalid key")) << line;
  }
}

TEST(Dotenv, UnterminatedQuotesAreErrors) {
  EXPECT_THAT(problems_of("A='abc\n"), ElementsAre(".env:1: unterminated single-quoted value"));
  EXPECT_THAT(problems_of("A=1\nB=\"abc\n"),
              ElementsAre(".env:2: unterminated double-quoted value"));
  EXPECT_THAT(problems_of(R"(A="abc\")"), ElementsAre(".env:1: unterminated double-quoted value"));
}

TEST(Dotenv, JunkAfterClosingQuoteIsAnError) {
  EXPECT_THAT(problems_of("A='x'y\n"),
              ElementsAre(".env:1: unexpected characters after the closing quote"));
  EXPECT_THAT(problems_of("A=\"x\" y\n"),
              ElementsAre(".env:1: unexpected characters after the closing quote"));
  EXPECT_EQ(value_of("A='x'#c\n"), "x");  // '#' right after the quote starts a comment
}

TEST(Dotenv, EveryMalformedLineIsReportedAtOnce) {
  EXPECT_THAT(problems_of("GOOD=1\nbad line\nA='x\nOK=2\n9X=1\n", "/etc/app.env"),
              ElementsAre("/etc/app.env:2: expected KEY=VALUE",
                          "/etc/app.env:3: unterminated single-quoted value",
                          HasSubstr("/etc/app.env:5: invalid key")));
}

TEST(Dotenv, ErrorsNeverRepeatTheLine) {
  const auto problems = problems_of("JWT_SECRET='supersecretvalue\nsupersecretword\n");
  ASSERT_EQ(problems.size(), 2u);
  for (const auto& p : problems) EXPECT_THAT(p, Not(HasSubstr("supersecret")));
}

TEST(Dotenv, FileSizeIsBounded) {
  std::string big(kMaxDotenvBytes + 1, '#');
  EXPECT_THAT(problems_of(big), ElementsAre(".env: file is larger than 1 MiB"));
  std::string exactly(kMaxDotenvBytes, '\n');
  EXPECT_TRUE(parse_dotenv(exactly, ".env").empty());
}

TEST(Dotenv, LineLengthIsBounded) {
  const std::string long_line = "A=" + std::string(kMaxDotenvLineBytes, 'x') + "\nB=1\n";
  EXPECT_THAT(problems_of(long_line), ElementsAre(".env:1: line is longer than 64 KiB"));
  const std::string fits = "A=" + std::string(kMaxDotenvLineBytes - 2, 'x');
  EXPECT_EQ(value_of(fits).size(), kMaxDotenvLineBytes - 2);
}

TEST(Dotenv, NulBytesAreRefused) {
  const std::string content("A=x\0y\n", 6);
  EXPECT_THAT(problems_of(content), ElementsAre(".env:1: line contains a NUL byte"));
}

}  // namespace
}  // namespace kit::config
