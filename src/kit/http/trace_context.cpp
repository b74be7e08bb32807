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
  // version "-" trace-id "-" parent-id "-" flags; version 00 is exactly 55 chars, a future
  // version may append "-"-separated fields which we ignore (spec §4.3 "versioning").
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.size() < 55) return std::nullopt;
  const std::string_view version = v.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" && v.size() != 55) return std::nullopt;
  if (v.size() > 55 && v[55] != '-') return std::nullopt;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  const std::string_view trace_id = v.substr(3, 32);
  const std::string_view parent_id = v.substr(36, 16);
  const std::string_view flags = v.substr(53, 2);
  if (!is_lower_hex(trace_id) || !is_lower_hex(parent_id) || !is_lower_hex(flags)) {
    return std::nullopt;
  }
  if (all_zero(trace_id) || all_zero(parent_id)) return std::nullopt;
  return TraceParent{std::string(trace_id), std::string(parent_id), std::string(flags)};
}

TraceContext make_trace_context(std::string_view incoming) {
  TraceContext ctx;
  if (auto parent = parse_traceparent(incoming)) {
    ctx.trace_id = std::move(parent->trace_id);
    ctx.flags = std::move(parent->flags);
  } else {
    do {
      ctx.trace_id = util::random_hex(16);
    } while (all_zero(ctx.trace_id));
  }
  do {
    ctx.span_id = util::random_hex(8);
  } while (all_zero(ctx.span_id));
  return ctx;
}

}  // namespace kit::http
