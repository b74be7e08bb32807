#pragma once
// Request correlation (docs/http-api.md "Headers on every response", docs/operations.md "Logs"):
// the X-Request-ID rule and W3C Trace Context (https://www.w3.org/TR/trace-context/)
// `traceparent` handling.
#include <optional>
#include <string>
#include <string_view>

namespace kit::http {

// A client-supplied X-Request-ID is kept when it is 1-128 chars of [A-Za-z0-9._:-].
bool is_valid_request_id(std::string_view id) noexcept;

struct TraceParent {
  std::string trace_id;   // 32 lowercase hex, not all zero
  std::string parent_id;  // 16 lowercase hex, not all zero
  std::string flags;      // 2 lowercase hex
};

// Parses a traceparent header value; nullopt when it is malformed (then a new trace starts).
std::optional<TraceParent> parse_traceparent(std::string_view value) noexcept;

// This server's span within the trace.
struct TraceContext {
  std::string trace_id;
  std::string span_id;
  std::string parent_id;  // the caller's span (from a valid traceparent); empty for a new trace
  std::string flags = "00";
  // The caller asked for this trace to be recorded (the sampled bit of its flags).
  bool sampled() const noexcept { return !flags.empty() && (flags.back() - '0') % 2 == 1; }
  std::string traceparent() const { return "00-" + trace_id + "-" + span_id + "-" + flags; }
};

// Continues the incoming trace when `incoming` is valid, otherwise starts a new one.
TraceContext make_trace_context(std::string_view incoming_traceparent);
// The same into `out`, whose strings keep their capacity: no allocation per request once a
// reused context held ids.
void assign_trace_context(std::string_view incoming_traceparent, TraceContext& out);

}  // namespace kit::http
