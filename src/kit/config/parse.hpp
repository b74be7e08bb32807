#pragma once
// Pure parsers for setting values: no state, no problem reporting (see Reader for that).
// Values are trimmed of surrounding blanks before parsing; anything else that is not exactly
// the expected form is refused, so a typo never silently becomes a default.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kit::config {

std::string_view trim(std::string_view s) noexcept;  // spaces, tabs, CR and LF

// true/false, 1/0, yes/no, on/off, case-insensitive.
std::optional<bool> parse_bool(std::string_view s);

// A decimal integer with an optional sign; nullopt when malformed or outside int64.
std::optional<std::int64_t> parse_integer(std::string_view s);

// A non-negative decimal number of seconds ("30", "2.5", "0.25"), rounded to milliseconds.
// Refuses signs, exponents, inf/nan and values above `max_seconds` (which keeps the
// conversion far away from overflow).
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view s,
                                                       std::int64_t max_seconds = 365LL * 86400);

// Splits a comma list, trimming items and dropping empty ones: " a, b,,c " -> {a, b, c}.
std::vector<std::string> split_list(std::string_view s);

// Renders a duration as seconds the way an operator would write it: "30", "2.5", "0.001".
std::string format_seconds(std::chrono::milliseconds d);

}  // namespace kit::config
