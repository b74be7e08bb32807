#include "kit/trace/tracer.hpp"

#include <charconv>
#include <optional>
#include <utility>

namespace kit::trace {
namespace {

// A new id of N hex digits, never all zero.
template <std::size_t N>
std::string random_id() {
  HexId<N> id;
  id.randomize();
  return id.str();
}

std::int64_t default_port(std::string_view scheme) noexcept {
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  if (scheme == "smtp") return 25;
  if (scheme == "smtps") return 465;
  return 0;
}

// The address of a temporary, for a constructor that copies what it points to.
const Parent* as_pointer(const Parent& parent) noexcept {
  return &parent;
}

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string RootSpan::traceparent() const {
  if (trace_id_.empty()) return {};
  return format_traceparent(trace_id_, span_id_, sampled_);
}

RootSpan::RootSpan(std::string trace_id, SpanSink* sink, std::string_view name, SpanKind kind)
    : trace_id_(std::move(trace_id)),
      // A parent without a span id: ChildSpan records a span with no parent, a root.
      span_(as_pointer(Parent{trace_id_, {}, sink}), name, kind),
      span_id_(span_.span_id()),
      sampled_(span_.recording()) {}

RootSpan Tracer::start(std::string_view name, SpanKind kind) const {
  std::string trace_id = random_id<32>();
  if (sink_ != nullptr && sampler_.should_sample(trace_id, std::nullopt)) {
    return RootSpan(std::move(trace_id), sink_, name, kind);
  }
  RootSpan span;
  span.trace_id_ = std::move(trace_id);
  span.span_id_ = random_id<16>();
  return span;
}

ServerEndpoint server_endpoint(std::string_view url) {
  ServerEndpoint out;
  const auto scheme_end = url.find("://");
  std::string scheme;
  std::string_view rest = url;
  if (scheme_end != std::string_view::npos) {
    for (const char c : url.substr(0, scheme_end)) scheme += lower(c);
    rest = url.substr(scheme_end + 3);
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  const auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  const std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    host = authority.substr(1, close == std::string_view::npos ? close : close - 1);
    if (close != std::string_view::npos && close + 1 < authority.size() &&
        authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  out.address.reserve(host.size());
  for (const char c : host) out.address += lower(c);
  out.port = default_port(scheme);
  if (!port.empty()) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec == std::errc() && end == port.data() + port.size() && value > 0 && value < 65536) {
      out.port = value;
    }
  }
  out.url = scheme.empty() ? std::string() : scheme + "://";
  out.url.append(authority).append(path);
  return out;
}

}  // namespace kit::trace
