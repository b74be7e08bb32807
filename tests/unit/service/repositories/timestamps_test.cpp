// RFC 3339 text for domain::Timestamp: fixed width, microseconds, Z; strict parsing.
#include "service/repositories/timestamps.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono;
using user_service::domain::Timestamp;
using user_service::repositories::append_timestamp;
using user_service::repositories::format_timestamp;
using user_service::repositories::parse_timestamp;

Timestamp ts(year_month_day d, hours h = hours{0}, minutes m = minutes{0}, seconds s = seconds{0},
             microseconds us = microseconds{0}) {
  return Timestamp{sys_days{d}} + h + m + s + us;
}

TEST(Timestamps, FormatsWithMicrosecondsAndZ) {
  EXPECT_EQ(format_timestamp(
                ts(year{2026} / 11 / 25, hours{2}, minutes{11}, seconds{0}, microseconds{123456})),
            "2026-11-25T02:11:00.123456Z");
  EXPECT_EQ(format_timestamp(Timestamp{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_timestamp(Timestamp{} - microseconds{1}), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_timestamp(
                ts(year{2024} / 2 / 29, hours{23}, minutes{59}, seconds{59}, microseconds{7})),
            "2024-02-29T23:59:59.000007Z");
  std::string out = "\"created_at\":\"";
  append_timestamp(out, Timestamp{});
  EXPECT_EQ(out, "\"created_at\":\"1970-01-01T00:00:00.000000Z");
}

TEST(Timestamps, RefusesYearsRfc3339CannotWrite) {
  EXPECT_THROW(format_timestamp(ts(year{10000} / 1 / 1)), std::out_of_range);
  EXPECT_THROW(format_timestamp(ts(year{-1} / 12 / 31)), std::out_of_range);
  EXPECT_EQ(format_timestamp(ts(year{9999} / 12 / 31, hours{23}, minutes{59}, seconds{59},
                                microseconds{999999})),
            "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_timestamp(ts(year{0} / 1 / 1)), "0000-01-01T00:00:00.000000Z");
}

TEST(Timestamps, RoundTrips) {
  for (Timestamp t :
       {Timestamp{}, Timestamp{} - microseconds{1},
        ts(year{2026} / 11 / 25, hours{2}, minutes{11}, seconds{0}, microseconds{123456}),
        ts(year{2000} / 2 / 29), ts(year{1} / 1 / 1, hours{1})}) {
    EXPECT_EQ(parse_timestamp(format_timestamp(t)), t) << format_timestamp(t);
  }
}

TEST(Timestamps, TextOrderIsTimeOrder) {
  const Timestamp a =
      ts(year{2026} / 11 / 25, hours{9}, minutes{59}, seconds{59}, microseconds{999999});
  const Timestamp b = ts(year{2026} / 11 / 25, hours{10});
  EXPECT_LT(format_timestamp(a), format_timestamp(b));
  EXPECT_LT(format_timestamp(b), format_timestamp(b + microseconds{1}));
  EXPECT_LT(format_timestamp(Timestamp{} - microseconds{1}), format_timestamp(Timestamp{}));
}

TEST(Timestamps, ParsesShorterFractions) {
  const Timestamp base = ts(year{2026} / 11 / 25, hours{2}, minutes{11});
  EXPECT_EQ(parse_timestamp("2026-11-25T02:11:00Z"), base);
  EXPECT_EQ(parse_timestamp("2026-11-25T02:11:00.1Z"), base + milliseconds{100});
  EXPECT_EQ(parse_timestamp("2026-11-25T02:11:00.123Z"), base + milliseconds{123});
  EXPECT_EQ(parse_timestamp("2026-11-25T02:11:00.000001Z"), base + microseconds{1});
}

TEST(Timestamps, ParsingIsStrict) {
  for (const char* bad : {
           "", "2026-11-25",
           "2026-11-25T02:11:00",           // no zone
           "2026-11-25T02:11:00+00:00",     // only Z
           "2026-11-25t02:11:00Z",          // lower-case t
           "2026-11-25T02:11:00z",          // lower-case z
           "2026-11-25 02:11:00Z",          // space
           "2026-11-25T02:11:00.Z",         // empty fraction
           "2026-11-25T02:11:00.1234567Z",  // finer than microseconds
           "2026-11-25T02:11:00.123456Z ",  // trailing space
           "2026-13-01T00:00:00Z",          // month 13
           "2026-02-29T00:00:00Z",          // not a leap year
           "2026-11-31T00:00:00Z",          // 31 November
           "2026-11-25T24:00:00Z",          // hour 24
           "2026-11-25T23:60:00Z",          // minute 60
           "2026-11-25T23:59:60Z",          // leap second
           "+026-11-25T02:11:00Z",          // sign
           "2026-1-25T02:11:00Z",           // short month
       }) {
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
  }
}

}  // namespace
