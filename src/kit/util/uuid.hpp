#pragma once
// UUIDs as lowercase text (docs/http-api.md "Conventions"): v4 for request ids, v7 (index
// locality) for user ids.
#include <chrono>
#include <string>
#include <string_view>

namespace kit::util {

// Random UUID (version 4) from the fast per-thread generator: for request ids.
std::string uuid_v4();
// The same, written into `out` (its capacity reused: no allocation once it held an id).
void uuid_v4_into(std::string& out);

// Time-ordered UUID (version 7, RFC 9562): 48-bit Unix milliseconds then random bits, so new
// rows land at the end of a B-tree index. Random bits come from the OS CSPRNG.
std::string uuid_v7(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// True for the canonical 8-4-4-4-12 hex form (either case).
bool is_uuid(std::string_view s) noexcept;

// Lowercase hex of `bytes` random bytes from the fast generator (trace and span ids).
std::string random_hex(std::size_t bytes);
// The same, written into `out` (its capacity reused).
void random_hex_into(std::size_t bytes, std::string& out);

}  // namespace kit::util
