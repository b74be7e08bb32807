#include "service/repositories/timestamps.hpp"

#include <array>
#include <stdexcept>

namespace user_service::repositories {
namespace {

using namespace std::chrono;

void put_digits(char* at, long long value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Reads exactly `width` digits at text[pos]; -1 when any is not a digit.
int digits(std::string_view text, std::size_t pos, std::size_t width) noexcept {
  if (pos + width > text.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

TimestampText timestamp_text(domain::Timestamp ts) {
  const auto day = floor<days>(ts);
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) throw std::out_of_range("timestamp year outside 0000-9999");
  const hh_mm_ss<microseconds> time{ts - day};
  TimestampText buf{};  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  put_digits(&buf[0], y, 4);
  buf[4] = '-';
  put_digits(&buf[5], static_cast<unsigned>(ymd.month()), 2);
  buf[7] = '-';
  put_digits(&buf[8], static_cast<unsigned>(ymd.day()), 2);
  buf[10] = 'T';
  put_digits(&buf[11], time.hours().count(), 2);
  buf[13] = ':';
  put_digits(&buf[14], time.minutes().count(), 2);
  buf[16] = ':';
  put_digits(&buf[17], time.seconds().count(), 2);
  buf[19] = '.';
  put_digits(&buf[20], time.subseconds().count(), 6);
  buf[26] = 'Z';
  return buf;
}

void append_timestamp(std::string& out, domain::Timestamp ts) {
  const TimestampText text = timestamp_text(ts);
  out.append(text.data(), text.size());
}

std::string format_timestamp(domain::Timestamp ts) {
  std::string out;
  out.reserve(27);
  append_timestamp(out, ts);
  return out;
}

std::optional<domain::Timestamp> parse_timestamp(std::string_view text) noexcept {
  // Fixed part: YYYY-MM-DDTHH:MM:SS
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const int y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  const int h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return std::nullopt;
  if (h > 23 || mi > 59 || s > 59) return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;

  std::size_t pos = 19;
  long long micros = 0;
  if (text[pos] == '.') {
    ++pos;
    std::size_t count = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++count > 6) return std::nullopt;  // finer than the type can hold: refuse, not round
      micros = micros * 10 + (text[pos] - '0');
      ++pos;
    }
    if (count == 0) return std::nullopt;
    for (std::size_t i = count; i < 6; ++i) micros *= 10;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;
  return domain::Timestamp{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{s} +
         microseconds{micros};
}

}  // namespace user_service::repositories
