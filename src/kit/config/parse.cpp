#include "kit/config/parse.hpp"
#include "kit/util/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

namespace kit::config {
namespace {

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<bool> parse_bool(std::string_view s) {
  s = trim(s);
  static constexpr std::array<std::string_view, 4> kTrue{"true", "1", "yes", "on"};
  static constexpr std::array<std::string_view, 4> kFalse{"false", "0", "no", "off"};
  for (auto t : kTrue)
    if (util::iequals_ascii(s, t)) return true;
  for (auto f : kFalse)
    if (util::iequals_ascii(s, f)) return false;
  return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view s) {
  s = trim(s);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  // from_chars would accept a second sign after ours ("+-1"); require digits only.
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!negative) {
    if (magnitude > kMax) return std::nullopt;
    return static_cast<std::int64_t>(magnitude);
  }
  if (magnitude > kMax + 1) return std::nullopt;
  if (magnitude == kMax + 1) return std::numeric_limits<std::int64_t>::min();
  return -static_cast<std::int64_t>(magnitude);
}

std::optional<std::chrono::milliseconds> parse_seconds(std::string_view s,
                                                       std::int64_t max_seconds) {
  // Parsed by hand as digits[.digits] so the result is exact (no binary floating point) and
  // forms like "1e3", "inf", "0x10" or "-0" are refused.
  s = trim(s);
  const auto dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;  // "5."
  if (!std::all_of(whole.begin(), whole.end(), is_digit)) return std::nullopt;
  if (!std::all_of(fraction.begin(), fraction.end(), is_digit)) return std::nullopt;

  std::int64_t seconds = 0;
  if (!whole.empty()) {
    const auto trimmed = whole.substr(std::min(whole.find_first_not_of('0'), whole.size()));
    if (trimmed.size() > 18) return std::nullopt;  // certainly above any sane maximum
    if (!trimmed.empty()) std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), seconds);
  }
  // Round half up on the first three decimals, looking at the fourth.
  std::int64_t millis = 0;
  for (std::size_t i = 0; i < 3; ++i)
    millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  if (fraction.size() > 3 && fraction[3] >= '5') ++millis;
  if (seconds > max_seconds || (seconds == max_seconds && millis > 0)) return std::nullopt;
  return std::chrono::milliseconds(seconds * 1000 + millis);
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> items;
  while (true) {
    const auto comma = s.find(',');
    const auto item = trim(s.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return items;
}

std::string format_seconds(std::chrono::milliseconds d) {
  const auto ms = d.count();
  std::string out = std::to_string(ms / 1000);
  auto frac = ms % 1000;
  if (frac != 0) {
    if (frac < 0) frac = -frac;
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.' + digits;
  }
  return out;
}

}  // namespace kit::config
