#include "kit/json/writer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <span>

namespace kit::json {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k) { return (byte(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    const unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

// Appends the UTF-8 sequence that starts at s[i], or U+FFFD for an invalid byte; returns the
// number of bytes of `s` consumed.
std::size_t append_utf8_sequence(std::string& out, std::string_view s, std::size_t i) {
  const std::size_t n = utf8_sequence_length(s, i);
  if (n == 0) {
    out += kReplacement;
    return 1;
  }
  out.append(s.substr(i, n));
  return n;
}

}  // namespace

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    i += append_utf8_sequence(out, s, i);
  }
  return out;
}

namespace {

// Bytes copied as they are: printable ASCII except '"' and '\\'. One table load per byte instead
// of four comparisons: every log line and envelope passes each key and value through here
// (~9,000 instructions per 401 response).
constexpr auto kPlainByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

}  // namespace

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run of bytes that need no escaping in one go.
    std::size_t run = i;
    while (run < s.size() && kPlainByte[static_cast<unsigned char>(s[run])]) ++run;
    out.append(s.data() + i, run - i);
    i = run;
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      i += append_utf8_sequence(out, s, i);
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    ++i;
  }
  out.push_back('"');
}

void Writer::separate() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = false;
}

Writer& Writer::open(char bracket) {
  separate();
  out_.push_back(bracket);
  return *this;
}

Writer& Writer::close(char bracket) {
  out_.push_back(bracket);
  need_comma_ = true;
  return *this;
}

Writer& Writer::key(std::string_view k) {
  separate();
  append_string(out_, k);
  out_.push_back(':');
  return *this;
}

Writer& Writer::value(std::string_view v) {
  separate();
  append_string(out_, v);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(bool v) {
  return scalar(v ? "true" : "false");
}

namespace {

// The shortest text that reads back as `v` (std::to_chars), for integers and finite doubles.
template <typename Number>
std::string_view number_text(Number v, std::span<char, 32> buf) {
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return {buf.data(), end};
}

}  // namespace

Writer& Writer::value(std::int64_t v) {
  char buf[32];
  return scalar(number_text(v, buf));
}

Writer& Writer::value(std::uint64_t v) {
  char buf[32];
  return scalar(number_text(v, buf));
}

Writer& Writer::value(double v) {
  if (!std::isfinite(v)) return scalar("null");  // JSON has no NaN or infinity
  char buf[32];
  return scalar(number_text(v, buf));
}

Writer& Writer::null() {
  return scalar("null");
}

Writer& Writer::raw(std::string_view json) {
  return scalar(json);
}

Writer& Writer::scalar(std::string_view text) {
  separate();
  out_ += text;
  need_comma_ = true;
  return *this;
}

}  // namespace kit::json
