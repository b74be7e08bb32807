// Request correlation: the X-Request-ID rule (docs/http-api.md "Headers on every response") and W3C
// Trace Context `traceparent` (https://www.w3.org/TR/trace-context/).
#include "kit/http/trace_context.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace {

using kit::http::is_valid_request_id;
using kit::http::make_trace_context;
using kit::http::parse_traceparent;

constexpr std::string_view kSample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const std::regex kHex32("^[0-9a-f]{32}$");
const std::regex kHex16("^[0-9a-f]{16}$");

// --- X-Request-ID -------------------------------------------------------------------------------

TEST(RequestId, AcceptsTheAllowedAlphabet) {
  EXPECT_TRUE(is_valid_request_id("a"));
  EXPECT_TRUE(is_valid_request_id("abc-123"));
  EXPECT_TRUE(is_valid_request_id("ABC.def_ghi:jkl-0123456789"));
  EXPECT_TRUE(is_valid_request_id("0190d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e"));
  EXPECT_TRUE(is_valid_request_id("..::__--"));
  EXPECT_TRUE(is_valid_request_id(std::string(128, 'x')));
}

TEST(RequestId, RejectsBadLengthAndCharacters) {
  EXPECT_FALSE(is_valid_request_id(""));
  EXPECT_FALSE(is_valid_request_id(std::string(129, 'x')));
  EXPECT_FALSE(is_valid_request_id("has space"));
  EXPECT_FALSE(is_valid_request_id(" lead"));
  EXPECT_FALSE(is_valid_request_id("trail "));
  EXPECT_FALSE(is_valid_request_id("a/b"));
  EXPECT_FALSE(is_valid_request_id("caf\xC3\xA9"));  // unicode
  EXPECT_FALSE(is_valid_request_id("a\nb"));
  EXPECT_FALSE(is_valid_request_id("a\rb"));
  EXPECT_FALSE(is_valid_request_id("a\tb"));
  EXPECT_FALSE(is_valid_request_id(std::string_view("a\0b", 3)));
  for (char c : std::string_view("\"'<>{}[]()=+,;!@#$%^&*?\\|`~")) {
    EXPECT_FALSE(is_valid_request_id(std::string("id") + c)) << c;
  }
}

// --- traceparent --------------------------------------------------------------------------------

TEST(TraceParent, ParsesTheW3cSample) {
  const auto tp = parse_traceparent(kSample);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(tp->flags, "01");
  const auto unsampled =
      parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled);
  EXPECT_EQ(unsampled->flags, "00");
}

TEST(TraceParent, SurroundingWhitespaceIsTolerated) {
  EXPECT_TRUE(parse_traceparent(" " + std::string(kSample) + "\t"));
}

TEST(TraceParent, UppercaseHexIsRejected) {
  EXPECT_FALSE(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
  EXPECT_FALSE(parse_traceparent("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceParent, AllZeroIdsAreRejected) {
  EXPECT_FALSE(parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
}

TEST(TraceParent, VersionRules) {
  // ff is forbidden.
  EXPECT_FALSE(parse_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  // Version 00 is exactly 55 characters.
  EXPECT_FALSE(parse_traceparent(std::string(kSample) + "-extra"));
  EXPECT_FALSE(parse_traceparent(std::string(kSample) + "0"));
  // A future version may append fields after a dash; they are ignored.
  const auto future = parse_traceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds");
  ASSERT_TRUE(future);
  EXPECT_EQ(future->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(future->flags, "01");
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  // ...but not glued on without the dash.
  EXPECT_FALSE(parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
  // The version itself must be two hex digits.
  EXPECT_FALSE(parse_traceparent("0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceParent, WrongLengthsAndSeparatorsAreRejected) {
  const std::string_view bad[] = {
      "",
      "00",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",    // short trace id
      "00-4bf92f3577b34da6a3ce929d0e0e47360-00f067aa0ba902b7-01",  // long trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",    // short parent id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b70-01",  // long parent id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",    // short flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-001",  // long flags
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // wrong separator
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "004bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // missing dash
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",   // non-hex flags
      "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",   // non-hex trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",   // non-hex parent id
      "00 4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7 01",
  };
  for (std::string_view v : bad) EXPECT_FALSE(parse_traceparent(v)) << v;
}

// --- make_trace_context -------------------------------------------------------------------------

TEST(TraceContext, ContinuesAValidTrace) {
  const auto ctx = make_trace_context(kSample);
  EXPECT_EQ(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ctx.flags, "01");
  EXPECT_TRUE(std::regex_match(ctx.span_id, kHex16)) << ctx.span_id;
  EXPECT_NE(ctx.span_id, "00f067aa0ba902b7");  // our own span, not the caller's
  EXPECT_EQ(ctx.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-" + ctx.span_id + "-01");
  EXPECT_TRUE(parse_traceparent(ctx.traceparent()));
}

TEST(TraceContext, StartsANewTraceOtherwise) {
  for (std::string_view incoming :
       {std::string_view{}, std::string_view{"garbage"},
        std::string_view{"00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
        std::string_view{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}) {
    const auto ctx = make_trace_context(incoming);
    EXPECT_TRUE(std::regex_match(ctx.trace_id, kHex32)) << ctx.trace_id;
    EXPECT_NE(ctx.trace_id, std::string(32, '0'));
    EXPECT_NE(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_TRUE(std::regex_match(ctx.span_id, kHex16)) << ctx.span_id;
    EXPECT_NE(ctx.span_id, std::string(16, '0'));
    EXPECT_EQ(ctx.flags, "00");
    EXPECT_TRUE(parse_traceparent(ctx.traceparent())) << ctx.traceparent();
  }
}

TEST(TraceContext, NewIdsAreUnique) {
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (int i = 0; i < 1000; ++i) {
    const auto ctx = make_trace_context("");
    traces.insert(ctx.trace_id);
    spans.insert(ctx.span_id);
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
}

}  // namespace
