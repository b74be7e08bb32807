#pragma once
// A small streaming JSON writer: appends to a std::string, manages commas, and escapes strings
// correctly for any bytes (control characters as \uXXXX, invalid UTF-8 replaced by U+FFFD).
// Used for response bodies, the error envelope and log lines.
#include <cstdint>
#include <string>
#include <string_view>

namespace kit::json {

// Appends `s` as a quoted JSON string to `out`.
void append_string(std::string& out, std::string_view s);

// Returns `s` with invalid UTF-8 sequences replaced by U+FFFD (no quoting or escaping).
std::string sanitize_utf8(std::string_view s);

// Length of the well-formed UTF-8 sequence starting at s[i] (1-4), or 0 when it is malformed
// (overlong forms, surrogates and code points past U+10FFFF included). `i` < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

class Writer {
 public:
  Writer() = default;
  explicit Writer(std::size_t reserve) { out_.reserve(reserve); }

  Writer& begin_object() { return open('{'); }
  Writer& end_object() { return close('}'); }
  Writer& begin_array() { return open('['); }
  Writer& end_array() { return close(']'); }
  Writer& key(std::string_view k);
  Writer& value(std::string_view v);
  Writer& value(const char* v) { return value(std::string_view{v}); }
  Writer& value(const std::string& v) { return value(std::string_view{v}); }
  Writer& value(bool v);
  Writer& value(std::int64_t v);
  Writer& value(std::uint64_t v);
  Writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  Writer& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
  Writer& value(double v);
  Writer& null();
  // Inserts already-serialized JSON as a value.
  Writer& raw(std::string_view json);

  // key + value in one call.
  template <class T>
  Writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const& noexcept { return out_; }
  std::string str() && noexcept { return std::move(out_); }

 private:
  void separate();
  Writer& open(char bracket);
  Writer& close(char bracket);
  // Appends one already-serialized scalar value.
  Writer& scalar(std::string_view text);
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace kit::json
