#include "kit/http/trace_context.hpp"

#include "kit/util/uuid.hpp"

namespace kit::http {
namespace {

bool is_lower_hex(std::string_view s) noexcept {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view s) noexcept {
  return s.find_first_not_of('0') == std::string_view::npos;
}

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// version "-" trace-id "-" parent-id "-" flags; version 00 is exactly 55 chars, a future
// version may append "-"-separated fields which we ignore (spec §4.3 "versioning").
bool is_valid_traceparent(std::string_view v) noexcept {
  v = trim(v);
  if (v.size() < 55) return false;
  const std::string_view version = v.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return false;
  if (version == "00" && v.size() != 55) return false;
  if (v.size() > 55 && v[55] != '-') return false;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const std::string_view trace_id = v.substr(3, 32);
  const std::string_view parent_id = v.substr(36, 16);
  const std::string_view flags = v.substr(53, 2);
  if (!is_lower_hex(trace_id) || !is_lower_hex(parent_id) || !is_lower_hex(flags)) return false;
  return !all_zero(trace_id) && !all_zero(parent_id);
}

}  // namespace

bool is_valid_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<TraceParent> parse_traceparent(std::string_view v) noexcept {
  if (!is_valid_traceparent(v)) return std::nullopt;
  v = trim(v);
  return TraceParent{std::string(v.substr(3, 32)), std::string(v.substr(36, 16)),
                     std::string(v.substr(53, 2))};
}

TraceContext make_trace_context(std::string_view incoming) {
  TraceContext ctx;
  assign_trace_context(incoming, ctx);
  return ctx;
}

void assign_trace_context(std::string_view incoming, TraceContext& out) {
  if (is_valid_traceparent(incoming)) {
    // Validated above: trim as parse_traceparent() does, then copy the fields in place.
    const std::string_view v = trim(incoming);
    out.trace_id.assign(v.substr(3, 32));
    out.parent_id.assign(v.substr(36, 16));
    out.flags.assign(v.substr(53, 2));
  } else {
    out.parent_id.clear();
    out.flags.assign("00");
    do {
      util::random_hex_into(16, out.trace_id);
    } while (all_zero(out.trace_id));
  }
  do {
    util::random_hex_into(8, out.span_id);
  } while (all_zero(out.span_id));
}

}  // namespace kit::http
