#pragma once
// RFC 3339 UTC text for domain::Timestamp: "2026-11-25T02:11:00.123456Z". Always six fractional
// digits and a `Z`, so the text sorts like the time (SQLite stores timestamps this way and
// keyset pagination compares them as text) and the API renders every timestamp alike.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "service/domain/user.hpp"

namespace user_service::repositories {

// Years 0000–9999 only (RFC 3339); throws std::out_of_range outside them.
std::string format_timestamp(domain::Timestamp ts);

// The same 27 characters in a fixed buffer, for writers that take a view: no allocation on the
// hot read routes. Throws like format_timestamp().
using TimestampText = std::array<char, 27>;
TimestampText timestamp_text(domain::Timestamp ts);

// For the HTTP layer: appends the same text to a JSON body or header under construction,
// without a temporary string.
void append_timestamp(std::string& out, domain::Timestamp ts);

// The instants every backend stores and compares alike: 0001-01-01T00:00:00Z through
// 9999-12-31T23:59:59.999999Z. RFC 3339 text has four-digit years, and PostgreSQL has no year
// 0 (it refuses "0000-01-01"), so a client-supplied time outside this range must be refused
// before it reaches a database (an admin-list cursor: 422), never passed on to fail there.
inline constexpr domain::Timestamp kEarliestStorable{
    std::chrono::sys_days{std::chrono::year{1} / 1 / 1}};
inline constexpr domain::Timestamp kLatestStorable{
    std::chrono::sys_days{std::chrono::year{10000} / 1 / 1} - std::chrono::microseconds{1}};
constexpr bool is_storable(domain::Timestamp ts) noexcept {
  return ts >= kEarliestStorable && ts <= kLatestStorable;
}

// Strict: "YYYY-MM-DDTHH:MM:SS[.f…]Z" with 0–6 fractional digits, an upper-case T and Z, a real
// calendar date, no leap second, no offset other than Z. Returns nullopt otherwise.
std::optional<domain::Timestamp> parse_timestamp(std::string_view text) noexcept;

}  // namespace user_service::repositories
