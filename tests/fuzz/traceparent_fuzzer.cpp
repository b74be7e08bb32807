// Fuzzes the W3C `traceparent` parser and the X-Request-ID rule (kit/http/trace_context), which
// read client headers on every request. Beyond "no crash", the result must obey the format:
// an accepted header yields lowercase hex ids of the right length that are not all zero, the
// trace continues with that trace id, and what we send on re-parses to the same trace.
#include <cstddef>
#include <cstdint>
#include <regex>
#include <string_view>

#include "fuzz_check.hpp"
#include "kit/http/trace_context.hpp"

namespace {

bool lower_hex(std::string_view s, std::size_t size) {
  if (s.size() != size) return false;
  bool non_zero = false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    non_zero = non_zero || c != '0';
  }
  return non_zero || size == 2;  // flags may be 00, ids may not be all zero
}

// The X-Request-ID rule of docs/http-api.md ("Headers on every response") restated
// independently of the implementation.
bool spec_request_id(std::string_view id) {
  static const std::regex rule("[A-Za-z0-9._:-]{1,128}");
  return id.size() <= 128 && std::regex_match(id.begin(), id.end(), rule);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const auto parsed = kit::http::parse_traceparent(input);
  const auto ctx = kit::http::make_trace_context(input);
  FUZZ_CHECK(lower_hex(ctx.trace_id, 32) && lower_hex(ctx.span_id, 16) && lower_hex(ctx.flags, 2));
  if (parsed) {
    FUZZ_CHECK(lower_hex(parsed->trace_id, 32));
    FUZZ_CHECK(lower_hex(parsed->parent_id, 16));
    FUZZ_CHECK(lower_hex(parsed->flags, 2));
    FUZZ_CHECK(ctx.trace_id == parsed->trace_id && ctx.flags == parsed->flags);
  }
  // What we propagate downstream is valid and continues the same trace.
  const auto outgoing = kit::http::parse_traceparent(ctx.traceparent());
  FUZZ_CHECK(outgoing && outgoing->trace_id == ctx.trace_id && outgoing->parent_id == ctx.span_id);

  FUZZ_CHECK(kit::http::is_valid_request_id(input) == spec_request_id(input));
  return 0;
}
