#include "kit/log/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

#include "kit/json/writer.hpp"
#include "kit/log/async_writer.hpp"
#include "kit/util/enum_names.hpp"

namespace kit::log {
namespace {

struct State {
  std::atomic<Level> level{Level::info};
  std::atomic<Format> format{Format::json};
  std::atomic<AsyncWriter*> writer{nullptr};  // null: write synchronously
  std::mutex sync_mutex;
  // Writers are kept until exit: a thread may still hold the pointer it loaded just before
  // shutdown() (its line is then written synchronously by the stopped writer).
  std::mutex writers_mutex;
  std::vector<std::unique_ptr<AsyncWriter>> writers;
};

State& state() {
  static State s;
  return s;
}

// RFC 3339 UTC with milliseconds, "2024-03-05T13:04:05.067Z": writes kTimestampSize chars.
// The date and time up to the second are formatted once per second and thread, not per line.
constexpr std::size_t kTimestampSize = 24;

void format_timestamp(char* out, std::chrono::system_clock::time_point ts) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(ts.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int millis = static_cast<int>(ms - static_cast<std::int64_t>(secs) * 1000);
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[20] = {};  // "YYYY-MM-DDTHH:MM:SS"
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];  // room for any int fields: no truncation warning
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::memcpy(cached, buf, sizeof cached - 1);
    cached_secs = secs;
  }
  std::memcpy(out, cached, 19);
  out[19] = '.';
  out[20] = static_cast<char>('0' + millis / 100);
  out[21] = static_cast<char>('0' + millis / 10 % 10);
  out[22] = static_cast<char>('0' + millis % 10);
  out[23] = 'Z';
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point ts) {
  char text[kTimestampSize];
  format_timestamp(text, ts);
  out.append(text, sizeof text);
}

void write_json_value(json::Writer& w, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          w.null();
        } else {
          w.value(x);
        }
      },
      v.get());
}

void append_console_value(std::string& out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string_view>) {
          // Quote only when needed so the line stays readable and unambiguous.
          const bool plain = !x.empty() &&
                             x.find_first_of(" \"=\\\n\r\t") == std::string_view::npos &&
                             json::is_valid_utf8(x);
          if (plain) {
            out += x;
          } else {
            json::append_string(out, x);
          }
        } else {
          json::Writer w;
          w.value(x);
          out += w.str();
        }
      },
      v.get());
}

void emit(std::string&& line) {
  State& s = state();
  if (AsyncWriter* writer = s.writer.load(std::memory_order_acquire)) {
    writer->push(line);
    return;
  }
  std::lock_guard lock(s.sync_mutex);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

constexpr util::EnumNames<Level, 4> kLevelNames{{"debug", "info", "warning", "error"}};
constexpr util::EnumNames<Format, 2> kFormatNames{{"json", "console"}};

}  // namespace

std::optional<Level> parse_level(std::string_view s) {
  return kLevelNames.parse(s);
}

std::optional<Format> parse_format(std::string_view s) {
  return kFormatNames.parse(s);
}

std::string_view to_string(Level level) noexcept {
  return kLevelNames(level);
}

std::string_view to_string(Format format) noexcept {
  return kFormatNames(format);
}

std::string format_line(Format format, std::chrono::system_clock::time_point ts, Level level,
                        std::string_view logger, std::string_view event,
                        std::span<const Field> bound, std::span<const Field> fields) {
  std::string out;
  out.reserve(256);
  if (format == Format::console) {
    append_timestamp(out, ts);
    out += ' ';
    std::string_view lv = to_string(level);
    out += lv;
    out.append(lv.size() < 7 ? 8 - lv.size() : 1, ' ');
    out += '[';
    out += json::sanitize_utf8(logger);
    out += "] ";
    out += json::sanitize_utf8(event);
    for (const auto* list : {&bound, &fields}) {
      for (const Field& f : *list) {
        out += ' ';
        out += json::sanitize_utf8(f.key);
        out += '=';
        append_console_value(out, f.value);
      }
    }
    // A console line must stay one line whatever the fields hold.
    for (char& c : out) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return out;
  }
  json::Writer w(256);
  w.begin_object();
  w.key("timestamp");
  char quoted[kTimestampSize + 2];  // the timestamp needs no escaping
  quoted[0] = '"';
  format_timestamp(quoted + 1, ts);
  quoted[kTimestampSize + 1] = '"';
  w.raw(std::string_view(quoted, sizeof quoted));
  w.field("level", to_string(level));
  w.field("logger", logger);
  w.field("event", event);
  for (const auto* list : {&bound, &fields}) {
    for (const Field& f : *list) {
      w.key(f.key);
      write_json_value(w, f.value);
    }
  }
  w.end_object();
  return std::move(w).str();
}

void init(const Options& options) {
  State& s = state();
  s.level.store(options.level);
  s.format.store(options.format);
  if (options.async && s.writer.load() == nullptr) {
    // One background thread writes, in batches. A full buffer (stdout blocked) drops lines and
    // counts them, never blocks the caller; once writing resumes one warning says how many.
    std::fflush(stdout);
    AsyncWriter::Options writer_options;
    writer_options.dropped_notice = [](std::uint64_t dropped) -> std::string {
      if (!enabled(Level::warning)) return {};
      const Field fields[] = {{"dropped", dropped}};
      return format_line(state().format.load(std::memory_order_relaxed),
                         std::chrono::system_clock::now(), Level::warning, "log",
                         "log_lines_dropped", {}, fields);
    };
    std::lock_guard lock(s.writers_mutex);
    s.writers.push_back(std::make_unique<AsyncWriter>(STDOUT_FILENO, std::move(writer_options)));
    s.writer.store(s.writers.back().get(), std::memory_order_release);
  }
}

std::uint64_t dropped_lines() {
  State& s = state();
  std::lock_guard lock(s.writers_mutex);
  std::uint64_t total = 0;
  for (const auto& writer : s.writers) total += writer->dropped_total();
  return total;
}

void flush() {
  if (AsyncWriter* writer = state().writer.load(std::memory_order_acquire)) writer->flush();
  std::fflush(stdout);
}

void shutdown() {
  if (AsyncWriter* writer = state().writer.exchange(nullptr, std::memory_order_acq_rel)) {
    writer->stop();  // writes every pending line first
  }
  std::fflush(stdout);
}

bool enabled(Level level) noexcept {
  return static_cast<std::uint8_t>(level) >=
         static_cast<std::uint8_t>(state().level.load(std::memory_order_relaxed));
}

void write(Level level, std::string_view logger, std::string_view event,
           std::span<const Field> bound, std::span<const Field> fields) {
  if (!enabled(level)) return;
  emit(format_line(state().format.load(std::memory_order_relaxed), std::chrono::system_clock::now(),
                   level, logger, event, bound, fields));
}

}  // namespace kit::log
