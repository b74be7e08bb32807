// kit::log: line formatting (docs/operations.md "Logs": one JSON object per line, timestamp
// RFC 3339 UTC with ms, field order, escaping of any input), level/format parsing and the level
// filter.
#include "kit/log/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "kit/json/writer.hpp"

namespace {

namespace klog = kit::log;
using klog::Field;
using klog::Format;
using klog::Level;
using namespace std::chrono;
using namespace std::chrono_literals;

// 2024-03-05T13:04:05.067Z
system_clock::time_point fixed_time() {
  return sys_days{year{2024} / March / 5} + 13h + 4min + 5s + 67ms;
}

std::string json_line(Level level, std::string_view logger, std::string_view event,
                      std::vector<Field> bound, std::vector<Field> fields,
                      system_clock::time_point ts = fixed_time()) {
  return klog::format_line(Format::json, ts, level, logger, event, bound, fields);
}

std::string console_line(Level level, std::string_view logger, std::string_view event,
                         std::vector<Field> bound, std::vector<Field> fields,
                         system_clock::time_point ts = fixed_time()) {
  return klog::format_line(Format::console, ts, level, logger, event, bound, fields);
}

const std::regex kRfc3339Ms(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");

// --- JSON format --------------------------------------------------------------------------------

TEST(LogJson, ExactLineWithFieldOrder) {
  const std::string line = json_line(Level::info, "http", "request_completed",
                                     {{"request_id", "r-1"}, {"trace_id", "abc"}},
                                     {{"status_code", 200}, {"path", "/x"}});
  EXPECT_EQ(line, R"({"timestamp":"2024-03-05T13:04:05.067Z","level":"info","logger":"http",)"
                  R"("event":"request_completed","request_id":"r-1","trace_id":"abc",)"
                  R"("status_code":200,"path":"/x"})");
}

TEST(LogJson, NoFields) {
  EXPECT_EQ(
      json_line(Level::error, "app", "boom", {}, {}),
      R"({"timestamp":"2024-03-05T13:04:05.067Z","level":"error","logger":"app","event":"boom"})");
}

TEST(LogJson, EveryLevelName) {
  EXPECT_NE(json_line(Level::debug, "l", "e", {}, {}).find(R"("level":"debug")"),
            std::string::npos);
  EXPECT_NE(json_line(Level::info, "l", "e", {}, {}).find(R"("level":"info")"), std::string::npos);
  EXPECT_NE(json_line(Level::warning, "l", "e", {}, {}).find(R"("level":"warning")"),
            std::string::npos);
  EXPECT_NE(json_line(Level::error, "l", "e", {}, {}).find(R"("level":"error")"),
            std::string::npos);
  EXPECT_EQ(klog::to_string(Level::warning), "warning");
}

std::string timestamp_of(const std::string& line) {
  const std::string prefix = R"({"timestamp":")";
  EXPECT_EQ(line.rfind(prefix, 0), 0u) << line;
  const auto end = line.find('"', prefix.size());
  return line.substr(prefix.size(), end - prefix.size());
}

TEST(LogJson, TimestampIsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(timestamp_of(json_line(Level::info, "l", "e", {}, {})), "2024-03-05T13:04:05.067Z");
  EXPECT_TRUE(std::regex_match(timestamp_of(json_line(Level::info, "l", "e", {}, {})), kRfc3339Ms));
  const std::string now =
      timestamp_of(json_line(Level::info, "l", "e", {}, {}, system_clock::now()));
  EXPECT_TRUE(std::regex_match(now, kRfc3339Ms)) << now;
}

TEST(LogJson, TimestampEdgeValues) {
  // Sub-millisecond parts are truncated, not rounded into the next second.
  EXPECT_EQ(timestamp_of(json_line(
                Level::info, "l", "e", {}, {},
                sys_days{year{2023} / December / 31} + 23h + 59min + 59s + 999ms + 999us)),
            "2023-12-31T23:59:59.999Z");
  EXPECT_EQ(timestamp_of(json_line(Level::info, "l", "e", {}, {}, system_clock::time_point{})),
            "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(timestamp_of(json_line(Level::info, "l", "e", {}, {},
                                   sys_days{year{2024} / February / 29} + 1ms)),
            "2024-02-29T00:00:00.001Z");
}

TEST(LogJson, ValuesOfEveryType) {
  const std::string s = "std::string";
  const std::string line = json_line(Level::info, "l", "e", {},
                                     {{"null", nullptr},
                                      {"t", true},
                                      {"f", false},
                                      {"int", -42},
                                      {"i64min", std::numeric_limits<std::int64_t>::min()},
                                      {"u64max", std::numeric_limits<std::uint64_t>::max()},
                                      {"short", static_cast<short>(-7)},
                                      {"unsigned", 7u},
                                      {"size", std::size_t{12}},
                                      {"double", 1.5},
                                      {"float", 0.25f},
                                      {"nan", std::numeric_limits<double>::quiet_NaN()},
                                      {"cstr", "c"},
                                      {"sv", std::string_view("v")},
                                      {"str", s}});
  EXPECT_EQ(line,
            R"({"timestamp":"2024-03-05T13:04:05.067Z","level":"info","logger":"l","event":"e",)"
            R"("null":null,"t":true,"f":false,"int":-42,"i64min":-9223372036854775808,)"
            R"("u64max":18446744073709551615,"short":-7,"unsigned":7,"size":12,"double":1.5,)"
            R"("float":0.25,"nan":null,"cstr":"c","sv":"v","str":"std::string"})");
}

TEST(LogJson, HostileKeysAndValuesAreEscaped) {
  const std::string line = json_line(Level::info, "log\"ger", "ev\nent", {{"bound\"key", "x\"y"}},
                                     {{"k\n\"}", "v\r\n{\"injected\":true}"},
                                      {"ctl", std::string_view("\x00\x1b[31m", 6)},
                                      {"bad_utf8", "\xC3\x28\xFF"},
                                      {"back\\slash", "\\"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line.find('\0'), std::string::npos);
  EXPECT_TRUE(kit::json::is_valid_utf8(line));
  EXPECT_NE(line.find(R"("logger":"log\"ger")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("event":"ev\nent")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("bound\"key":"x\"y")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("k\n\"}":"v\r\n{\"injected\":true}")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("ctl":"\u0000\u001b[31m")"), std::string::npos) << line;
  EXPECT_NE(line.find("\"bad_utf8\":\"\xEF\xBF\xBD(\xEF\xBF\xBD\""), std::string::npos) << line;
  EXPECT_NE(line.find(R"("back\\slash":"\\")"), std::string::npos) << line;
  EXPECT_EQ(line.back(), '}');
}

// --- console format -----------------------------------------------------------------------------

TEST(LogConsole, ReadableLine) {
  EXPECT_EQ(console_line(Level::info, "http", "request_completed", {{"request_id", "r1"}},
                         {{"status_code", 200}, {"ok", true}, {"path", "/a b"}}),
            R"(2024-03-05T13:04:05.067Z info    [http] request_completed request_id=r1 )"
            R"(status_code=200 ok=true path="/a b")");
  EXPECT_EQ(console_line(Level::warning, "db", "slow", {}, {{"none", nullptr}, {"empty", ""}}),
            R"(2024-03-05T13:04:05.067Z warning [db] slow none=null empty="")");
}

TEST(LogConsole, StaysOneLineWhateverTheInput) {
  const std::string line =
      console_line(Level::error, "log\nger", "ev\r\nent", {{"b\nk", "v\nv"}},
                   {{"k\r", "line1\nline2\rline3"}, {"bad", "\xFF\n"}, {"n", 1}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_TRUE(kit::json::is_valid_utf8(line));
  // Values that need it are quoted JSON strings, so nothing is lost.
  EXPECT_NE(line.find(R"("line1\nline2\rline3")"), std::string::npos) << line;
}

// --- parsing and the level filter ---------------------------------------------------------------

TEST(LogParse, Levels) {
  EXPECT_EQ(klog::parse_level("debug"), Level::debug);
  EXPECT_EQ(klog::parse_level("info"), Level::info);
  EXPECT_EQ(klog::parse_level("warning"), Level::warning);
  EXPECT_EQ(klog::parse_level("error"), Level::error);
  EXPECT_FALSE(klog::parse_level(""));
  EXPECT_FALSE(klog::parse_level("verbose"));
  EXPECT_FALSE(klog::parse_level("info "));
  EXPECT_FALSE(klog::parse_level(std::string_view("info\0", 5)));
}

TEST(LogParse, Formats) {
  EXPECT_EQ(klog::parse_format("json"), Format::json);
  EXPECT_EQ(klog::parse_format("console"), Format::console);
  EXPECT_FALSE(klog::parse_format(""));
  EXPECT_FALSE(klog::parse_format("text"));
  EXPECT_FALSE(klog::parse_format("jsonl"));
}

class LogLevelFilter : public ::testing::Test {
 protected:
  void TearDown() override {
    klog::init({.level = Level::info, .format = Format::json, .async = false});
  }
};

TEST_F(LogLevelFilter, EnabledFollowsInitLevel) {
  klog::init({.level = Level::warning, .format = Format::json, .async = false});
  EXPECT_FALSE(klog::enabled(Level::debug));
  EXPECT_FALSE(klog::enabled(Level::info));
  EXPECT_TRUE(klog::enabled(Level::warning));
  EXPECT_TRUE(klog::enabled(Level::error));
  klog::init({.level = Level::debug, .format = Format::json, .async = false});
  EXPECT_TRUE(klog::enabled(Level::debug));
}

TEST_F(LogLevelFilter, SynchronousWriteEmitsOneJsonLinePerEnabledCall) {
  klog::shutdown();  // make sure no background writer from another test is active
  klog::init({.level = Level::warning, .format = Format::json, .async = false});
  testing::internal::CaptureStdout();
  klog::info("test", "hidden_info", {{"k", 1}});
  klog::warning("test", "shown_warning", {{"k", 2}});
  const std::vector<Field> bound{{"request_id", "rid"}, {"trace_id", "tid"}};
  klog::Bound("test", bound).error("shown_error", {{"k", 3}});
  klog::Bound("test", bound).debug("hidden_debug");
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
  const auto first_nl = out.find('\n');
  ASSERT_NE(first_nl, std::string::npos) << out;
  const std::string first = out.substr(0, first_nl);
  const std::string second = out.substr(first_nl + 1);
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second.back(), '\n');
  EXPECT_EQ(second.find('\n'), second.size() - 1);
  EXPECT_NE(first.find(R"("level":"warning","logger":"test","event":"shown_warning","k":2})"),
            std::string::npos)
      << first;
  EXPECT_NE(second.find(R"("level":"error","logger":"test","event":"shown_error",)"
                        R"("request_id":"rid","trace_id":"tid","k":3})"),
            std::string::npos)
      << second;
  EXPECT_TRUE(std::regex_match(timestamp_of(first), kRfc3339Ms));
}

}  // namespace
