#pragma once
// timestamptz in PostgreSQL's text format. Connections run with TimeZone=UTC, so the server
// prints "YYYY-MM-DD HH:MM:SS[.ffffff]+00"; we send the same form. Microsecond precision, the
// resolution of timestamptz.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kit::db::pg {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// "2024-05-06 07:08:09.123456+00" (always six fraction digits).
std::string format_timestamp(Timestamp t);

// Accepts the server's output for years 0001-9999 with a "+00" (or "+00:00", "Z") offset and
// 0-6 fraction digits; nullopt for anything else.
std::optional<Timestamp> parse_timestamp(std::string_view text);

}  // namespace kit::db::pg
