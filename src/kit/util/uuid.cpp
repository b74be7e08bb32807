#include "kit/util/uuid.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "kit/util/random.hpp"

namespace kit::util {
namespace {

// Two lowercase hex digits per byte value: ids are formatted a byte (not a nibble) per step,
// without branches (request, trace and span ids are made for every request).
constexpr auto kHexPairs = [] {
  constexpr char digits[] = "0123456789abcdef";
  std::array<char, 512> pairs{};
  for (std::size_t b = 0; b < 256; ++b) {
    pairs[2 * b] = digits[b >> 4];
    pairs[2 * b + 1] = digits[b & 0xF];
  }
  return pairs;
}();

inline char* put_hex(char* out, unsigned char byte) noexcept {
  std::memcpy(out, &kHexPairs[2 * std::size_t{byte}], 2);
  return out + 2;
}

void format_uuid(const std::array<unsigned char, 16>& b, char (&out)[36]) noexcept {
  char* o = out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    o = put_hex(o, b[i]);
  }
}

std::string format_uuid(const std::array<unsigned char, 16>& b) {
  char out[36];
  format_uuid(b, out);
  return std::string(out, sizeof out);
}

std::array<unsigned char, 16> random_v4_bytes() noexcept {
  std::array<unsigned char, 16> b;
  const std::uint64_t hi = fast_random();
  const std::uint64_t lo = fast_random();
  std::memcpy(b.data(), &hi, 8);
  std::memcpy(b.data() + 8, &lo, 8);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return b;
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string uuid_v4() {
  return format_uuid(random_v4_bytes());
}

void uuid_v4_into(std::string& out) {
  char text[36];
  format_uuid(random_v4_bytes(), text);
  out.assign(text, sizeof text);
}

std::string uuid_v7(std::chrono::system_clock::time_point now) {
  std::array<unsigned char, 16> b;
  randombytes_buf(b.data(), b.size());
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  for (int i = 0; i < 6; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x70);  // version 7
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return format_uuid(b);
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!is_hex(s[i])) {
      return false;
    }
  }
  return true;
}

std::string random_hex(std::size_t bytes) {
  std::string out;
  random_hex_into(bytes, out);
  return out;
}

void random_hex_into(std::size_t bytes, std::string& out) {
  out.resize(bytes * 2);
  char* o = out.data();
  while (bytes > 0) {
    const std::uint64_t r = fast_random();
    unsigned char word[8];
    std::memcpy(word, &r, sizeof word);
    const std::size_t n = bytes < sizeof word ? bytes : sizeof word;
    for (std::size_t i = 0; i < n; ++i) o = put_hex(o, word[i]);
    bytes -= n;
  }
}

}  // namespace kit::util
