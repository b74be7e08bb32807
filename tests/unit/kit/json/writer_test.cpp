// kit::json writer: string escaping, UTF-8 repair, commas and numbers (docs/operations.md,
// "Logs": every line is valid JSON whatever the input; control characters are escaped and
// invalid UTF-8 is replaced).
#include "kit/json/writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace {

using kit::json::append_string;
using kit::json::is_valid_utf8;
using kit::json::sanitize_utf8;
using kit::json::Writer;

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string json_quoted(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// --- escaping ---------------------------------------------------------------------------------

TEST(JsonEscape, PlainAsciiIsQuotedUnchanged) {
  EXPECT_EQ(json_quoted("hello world"), "\"hello world\"");
  EXPECT_EQ(json_quoted(""), "\"\"");
}

TEST(JsonEscape, QuoteAndBackslash) {
  EXPECT_EQ(json_quoted("a\"b"), R"("a\"b")");
  EXPECT_EQ(json_quoted("a\\b"), R"("a\\b")");
  EXPECT_EQ(json_quoted("\\\""), R"("\\\"")");
  // A forward slash needs no escape.
  EXPECT_EQ(json_quoted("a/b"), R"("a/b")");
}

TEST(JsonEscape, ShortFormsForCommonControlCharacters) {
  EXPECT_EQ(json_quoted("\n"), R"("\n")");
  EXPECT_EQ(json_quoted("\r"), R"("\r")");
  EXPECT_EQ(json_quoted("\t"), R"("\t")");
  EXPECT_EQ(json_quoted("\b"), R"("\b")");
  EXPECT_EQ(json_quoted("\f"), R"("\f")");
}

TEST(JsonEscape, EveryControlCharacterIsEscaped) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int c = 0; c < 0x20; ++c) {
    const char ch = static_cast<char>(c);
    const std::string out = json_quoted(std::string_view(&ch, 1));
    std::string expected;
    switch (c) {
      case '\n':
        expected = R"("\n")";
        break;
      case '\r':
        expected = R"("\r")";
        break;
      case '\t':
        expected = R"("\t")";
        break;
      case '\b':
        expected = R"("\b")";
        break;
      case '\f':
        expected = R"("\f")";
        break;
      default:
        expected = std::string("\"\\u00") + kHex[c >> 4] + kHex[c & 0xF] + "\"";
    }
    EXPECT_EQ(out, expected) << "control character " << c;
    // Whatever the form, no raw control byte may remain.
    for (char o : out) EXPECT_GE(static_cast<unsigned char>(o), 0x20) << "control " << c;
  }
}

TEST(JsonEscape, DelPassesThroughAsValidJson) {
  // RFC 8259 requires escaping only U+0000..U+001F; DEL is a legal raw character.
  EXPECT_EQ(json_quoted("a\x7F"
                        "b"),
            "\"a\x7F"
            "b\"");
}

TEST(JsonEscape, NulBytesInsideStringViewAreEscapedNotTruncated) {
  const std::string_view s("a\0b\0", 4);
  EXPECT_EQ(json_quoted(s), R"("a\u0000b\u0000")");
  Writer w;
  w.value(s);
  EXPECT_EQ(w.str(), R"("a\u0000b\u0000")");
}

TEST(JsonEscape, MixedRunsAroundEscapes) {
  EXPECT_EQ(json_quoted("ab\"cd\nef\\gh"), R"("ab\"cd\nef\\gh")");
  EXPECT_EQ(json_quoted("line1\r\nline2\x01"), R"("line1\r\nline2\u0001")");
}

// --- UTF-8 --------------------------------------------------------------------------------------

TEST(JsonUtf8, ValidMultiByteSequencesPassThrough) {
  const std::string_view samples[] = {
      "caf\xC3\xA9",                                       // é (2 bytes)
      "\xE2\x82\xAC",                                      // € (3 bytes)
      "\xED\x9F\xBF",                                      // U+D7FF, last before the surrogates
      "\xEE\x80\x80",                                      // U+E000, first after the surrogates
      "\xEF\xBF\xBD",                                      // U+FFFD itself
      "\xF0\x9F\x98\x80",                                  // 😀 (4 bytes)
      "\xF4\x8F\xBF\xBF",                                  // U+10FFFF, the last code point
      "\xC2\x80",                                          // U+0080, smallest 2-byte
      "\xE0\xA0\x80",                                      // U+0800, smallest 3-byte
      "\xF0\x90\x80\x80",                                  // U+10000, smallest 4-byte
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",  // Привет
  };
  for (std::string_view s : samples) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(sanitize_utf8(s), s);
    EXPECT_EQ(json_quoted(s), "\"" + std::string(s) + "\"");
  }
}

struct InvalidCase {
  const char* name;
  std::string_view bytes;
};

const InvalidCase kInvalid[] = {
    {"lone continuation", "\x80"},
    {"lone continuation bf", "\xBF"},
    {"continuation run", "\x80\x81\x82"},
    {"truncated 2-byte at end", "\xC3"},
    {"truncated 3-byte at end (1 of 3)", "\xE2"},
    {"truncated 3-byte at end (2 of 3)", "\xE2\x82"},
    {"truncated 4-byte at end (3 of 4)", "\xF0\x9F\x98"},
    {"truncated 2-byte followed by ascii",
     "\xC3"
     "A"},
    {"overlong C0 80 (NUL)", "\xC0\x80"},
    {"overlong C1 BF", "\xC1\xBF"},
    {"overlong E0 80 80", "\xE0\x80\x80"},
    {"overlong E0 9F BF", "\xE0\x9F\xBF"},
    {"overlong F0 80 80 80", "\xF0\x80\x80\x80"},
    {"overlong F0 8F BF BF", "\xF0\x8F\xBF\xBF"},
    {"surrogate ED A0 80", "\xED\xA0\x80"},
    {"surrogate ED BF BF", "\xED\xBF\xBF"},
    {"past U+10FFFF F4 90 80 80", "\xF4\x90\x80\x80"},
    {"F5", "\xF5\x80\x80\x80"},
    {"F8 5-byte form", "\xF8\x88\x80\x80\x80"},
    {"FC 6-byte form", "\xFC\x84\x80\x80\x80\x80"},
    {"FE", "\xFE"},
    {"FF", "\xFF"},
};

TEST(JsonUtf8, InvalidSequencesAreDetected) {
  for (const auto& c : kInvalid) {
    EXPECT_FALSE(is_valid_utf8(c.bytes)) << c.name;
    // Embedded between valid text too.
    EXPECT_FALSE(is_valid_utf8("ok " + std::string(c.bytes) + " ok")) << c.name;
  }
}

TEST(JsonUtf8, EveryLeadByteF5ToFFIsInvalid) {
  for (int b = 0xF5; b <= 0xFF; ++b) {
    const std::string s = std::string(1, static_cast<char>(b)) + "\x80\x80\x80";
    EXPECT_FALSE(is_valid_utf8(s)) << std::hex << b;
    const std::string fixed = sanitize_utf8(s);
    EXPECT_TRUE(is_valid_utf8(fixed));
    EXPECT_EQ(fixed.find(static_cast<char>(b)), std::string::npos);
  }
}

TEST(JsonUtf8, InvalidSequencesAreReplacedAndOutputIsValid) {
  for (const auto& c : kInvalid) {
    const std::string input = "a" + std::string(c.bytes) + "z";
    const std::string fixed = sanitize_utf8(input);
    EXPECT_TRUE(is_valid_utf8(fixed)) << c.name;
    EXPECT_NE(fixed.find(kFffd), std::string::npos) << c.name;
    EXPECT_EQ(fixed.front(), 'a') << c.name;
    EXPECT_EQ(fixed.back(), 'z') << c.name;
    // No bytes of the malformed sequence survive: only U+FFFD between the ASCII ends.
    std::string_view middle(fixed);
    middle.remove_prefix(1);
    middle.remove_suffix(1);
    if (c.bytes.find('A') != std::string_view::npos) {
      ASSERT_EQ(middle.back(), 'A');
      middle.remove_suffix(1);
    }
    while (middle.starts_with(kFffd)) middle.remove_prefix(kFffd.size());
    EXPECT_TRUE(middle.empty()) << c.name << ": left " << middle.size() << " bytes";

    const std::string json = json_quoted(input);
    EXPECT_TRUE(is_valid_utf8(json)) << c.name;
    EXPECT_EQ(json, "\"" + fixed + "\"") << c.name;
  }
}

TEST(JsonUtf8, ExactReplacementForSingleBadBytes) {
  EXPECT_EQ(sanitize_utf8("\x80"), kFffd);
  EXPECT_EQ(sanitize_utf8("\xFF"), kFffd);
  EXPECT_EQ(sanitize_utf8("a\xC0\x80"
                          "b"),
            "a" + repeat(kFffd, 2) + "b");
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), repeat(kFffd, 3));
  EXPECT_EQ(json_quoted("x\xFEy"), "\"x" + std::string(kFffd) + "y\"");
}

TEST(JsonUtf8, ValidTextAfterABadByteIsKept) {
  // The byte after a truncated lead byte starts a new sequence and must not be swallowed.
  EXPECT_EQ(sanitize_utf8("\xE2\xC3\xA9"), std::string(kFffd) + "\xC3\xA9");
  EXPECT_EQ(sanitize_utf8("\xF0\x9F\xE2\x82\xAC"), repeat(kFffd, 2) + "\xE2\x82\xAC");
  EXPECT_EQ(json_quoted("\xC3\"x"), "\"" + std::string(kFffd) + "\\\"x\"");
}

TEST(JsonUtf8, EmptyAndAscii) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii \x01\x7F"));
  EXPECT_EQ(sanitize_utf8(""), "");
  EXPECT_EQ(sanitize_utf8(std::string_view("a\0b", 3)), std::string("a\0b", 3));
}

TEST(JsonUtf8, RandomBytesAlwaysGiveValidJsonStrings) {
  // A deterministic byte soup: every output must be valid UTF-8 with no raw control bytes.
  std::uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const int len = static_cast<int>(x % 17);
    for (int i = 0; i < len; ++i) {
      x = x * 1664525u + 1013904223u;
      s.push_back(static_cast<char>(x >> 24));
    }
    x = x * 1664525u + 1013904223u;
    const std::string json = json_quoted(s);
    ASSERT_TRUE(is_valid_utf8(json)) << "round " << round;
    for (char c : json) ASSERT_GE(static_cast<unsigned char>(c), 0x20) << "round " << round;
    ASSERT_TRUE(is_valid_utf8(sanitize_utf8(s)));
  }
}

// --- structure ----------------------------------------------------------------------------------

TEST(JsonWriter, EmptyContainers) {
  EXPECT_EQ(Writer().begin_object().end_object().str(), "{}");
  EXPECT_EQ(Writer().begin_array().end_array().str(), "[]");
}

TEST(JsonWriter, CommasInNestedObjectsAndArrays) {
  Writer w;
  w.begin_object();
  w.field("a", 1);
  w.key("b").begin_array();
  w.value(1).value("two").null();
  w.begin_object().field("x", true).field("y", false).end_object();
  w.begin_array().end_array();
  w.begin_object().end_object();
  w.end_array();
  w.key("c").begin_object();
  w.key("d").begin_object().field("e", "f").end_object();
  w.field("g", 2);
  w.end_object();
  w.field("h", true);
  w.end_object();
  EXPECT_EQ(
      w.str(),
      R"({"a":1,"b":[1,"two",null,{"x":true,"y":false},[],{}],"c":{"d":{"e":"f"},"g":2},"h":true})");
}

TEST(JsonWriter, TopLevelArrayOfObjects) {
  Writer w;
  w.begin_array();
  for (int i = 0; i < 3; ++i) w.begin_object().field("i", i).end_object();
  w.end_array();
  EXPECT_EQ(w.str(), R"([{"i":0},{"i":1},{"i":2}])");
}

TEST(JsonWriter, KeysAreEscapedToo) {
  Writer w;
  w.begin_object().field("k\"\n\x01", "v").end_object();
  EXPECT_EQ(w.str(), R"({"k\"\n\u0001":"v"})");
}

TEST(JsonWriter, RawInsertsJsonAsOneValue) {
  Writer w;
  w.begin_object().key("a").raw(R"({"x":1})").field("b", 2).end_object();
  EXPECT_EQ(w.str(), R"({"a":{"x":1},"b":2})");
  Writer arr;
  arr.begin_array().raw("1").raw("[2]").end_array();
  EXPECT_EQ(arr.str(), "[1,[2]]");
}

TEST(JsonWriter, StringOverloads) {
  const std::string s = "std";
  const char* c = "cstr";
  Writer w;
  w.begin_array().value(s).value(c).value(std::string_view("sv")).end_array();
  EXPECT_EQ(w.str(), R"(["std","cstr","sv"])");
}

TEST(JsonWriter, MoveOutOfRvalue) {
  Writer w;
  w.begin_object().field("a", 1).end_object();
  std::string out = std::move(w).str();
  EXPECT_EQ(out, R"({"a":1})");
}

// --- numbers ------------------------------------------------------------------------------------

std::string one(auto v) {
  Writer w;
  w.value(v);
  return w.str();
}

TEST(JsonNumbers, Integers) {
  EXPECT_EQ(one(0), "0");
  EXPECT_EQ(one(-1), "-1");
  EXPECT_EQ(one(42u), "42");
  EXPECT_EQ(one(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(one(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(one(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(one(std::numeric_limits<int>::min()), "-2147483648");
  EXPECT_EQ(one(std::numeric_limits<unsigned>::max()), "4294967295");
}

TEST(JsonNumbers, Doubles) {
  EXPECT_EQ(one(1.5), "1.5");
  EXPECT_EQ(one(-0.25), "-0.25");
  EXPECT_EQ(one(0.1), "0.1");  // shortest round-trip form
  EXPECT_EQ(one(3.0), "3");
  EXPECT_EQ(one(1e300), "1e+300");
  EXPECT_EQ(one(12.345), "12.345");
}

TEST(JsonNumbers, NonFiniteDoublesBecomeNull) {
  EXPECT_EQ(one(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(one(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(one(-std::numeric_limits<double>::infinity()), "null");
  Writer w;
  w.begin_array().value(std::numeric_limits<double>::quiet_NaN()).value(1.0).end_array();
  EXPECT_EQ(w.str(), "[null,1]");
}

TEST(JsonNumbers, Booleans) {
  EXPECT_EQ(one(true), "true");
  EXPECT_EQ(one(false), "false");
}

}  // namespace
