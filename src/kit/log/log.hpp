#pragma once
// Structured logging (docs/operations.md "Logs"): one JSON object per line on stdout,
// formatted by the caller's thread and written in batches by a background thread (AsyncWriter),
// so no I/O thread ever blocks on stdout. Field order: timestamp, level, logger, event, bound
// fields, call fields.
//
// This is the only global in the program: call init() once at start-up and shutdown() last.
// Before init() (or after shutdown()) lines are written synchronously.
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace kit::log {

enum class Level : std::uint8_t { debug = 0, info = 1, warning = 2, error = 3 };
enum class Format : std::uint8_t { json, console };

std::optional<Level> parse_level(std::string_view s);    // debug | info | warning | error
std::optional<Format> parse_format(std::string_view s);  // json | console
std::string_view to_string(Level level) noexcept;
std::string_view to_string(Format format) noexcept;

// A field value. Strings are borrowed: the line is formatted before the call returns.
class Value {
 public:
  Value(std::nullptr_t) : v_(nullptr) {}
  Value(bool b) : v_(b) {}
  Value(std::string_view s) : v_(s) {}
  Value(const char* s) : v_(std::string_view{s}) {}
  Value(const std::string& s) : v_(std::string_view{s}) {}
  Value(double d) : v_(d) {}
  Value(float d) : v_(static_cast<double>(d)) {}
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && std::is_signed_v<I>) Value(I i)
      : v_(static_cast<std::int64_t>(i)) {}
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && std::is_unsigned_v<I>) Value(I i)
      : v_(static_cast<std::uint64_t>(i)) {}

  using Variant =
      std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string_view>;
  const Variant& get() const noexcept { return v_; }

 private:
  Variant v_;
};

struct Field {
  std::string_view key;
  Value value;
};
using Fields = std::initializer_list<Field>;

struct Options {
  Level level = Level::info;
  Format format = Format::json;
  bool async = true;  // false: write synchronously (tests, short-lived commands)
};

void init(const Options& options);
void shutdown();  // flushes and stops the background writer
void flush();
// Lines the background writer dropped because stdout did not keep up (its buffer was full),
// since the process started: log_lines_dropped_total.
std::uint64_t dropped_lines();
bool enabled(Level level) noexcept;

// Formats one line (without the trailing newline). Pure; exposed for tests.
std::string format_line(Format format, std::chrono::system_clock::time_point ts, Level level,
                        std::string_view logger, std::string_view event,
                        std::span<const Field> bound, std::span<const Field> fields);

// Writes one line if `level` is enabled. `bound` carries context such as request_id/trace_id.
void write(Level level, std::string_view logger, std::string_view event,
           std::span<const Field> bound, std::span<const Field> fields);

inline void write(Level level, std::string_view logger, std::string_view event, Fields fields) {
  write(level, logger, event, {}, std::span<const Field>(fields.begin(), fields.size()));
}
inline void debug(std::string_view logger, std::string_view event, Fields fields = {}) {
  write(Level::debug, logger, event, fields);
}
inline void info(std::string_view logger, std::string_view event, Fields fields = {}) {
  write(Level::info, logger, event, fields);
}
inline void warning(std::string_view logger, std::string_view event, Fields fields = {}) {
  write(Level::warning, logger, event, fields);
}
inline void error(std::string_view logger, std::string_view event, Fields fields = {}) {
  write(Level::error, logger, event, fields);
}

// A logger with bound context fields (like structlog's bind): every line it writes carries them.
// It borrows `bound`; keep the storage alive while the Bound is used.
class Bound {
 public:
  Bound(std::string_view logger, std::span<const Field> bound) : logger_(logger), bound_(bound) {}
  void log(Level level, std::string_view event, Fields fields = {}) const {
    write(level, logger_, event, bound_, std::span<const Field>(fields.begin(), fields.size()));
  }
  void debug(std::string_view event, Fields fields = {}) const { log(Level::debug, event, fields); }
  void info(std::string_view event, Fields fields = {}) const { log(Level::info, event, fields); }
  void warning(std::string_view event, Fields fields = {}) const {
    log(Level::warning, event, fields);
  }
  void error(std::string_view event, Fields fields = {}) const { log(Level::error, event, fields); }

 private:
  std::string_view logger_;
  std::span<const Field> bound_;
};

}  // namespace kit::log
