#include "kit/otlp/otlp_proto.hpp"

#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <variant>

namespace kit::otlp {
namespace {

// Field numbers of opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1).
namespace field {
constexpr int kResourceSpans = 1;   // ExportTraceServiceRequest.resource_spans
constexpr int kResource = 1;        // ResourceSpans.resource
constexpr int kScopeSpans = 2;      // ResourceSpans.scope_spans
constexpr int kAttributes = 1;      // Resource.attributes
constexpr int kScope = 1;           // ScopeSpans.scope
constexpr int kSpans = 2;           // ScopeSpans.spans
constexpr int kScopeName = 1;       // InstrumentationScope.name
constexpr int kScopeVersion = 2;    // InstrumentationScope.version
constexpr int kTraceId = 1;         // Span.trace_id
constexpr int kSpanId = 2;          // Span.span_id
constexpr int kParentSpanId = 4;    // Span.parent_span_id
constexpr int kName = 5;            // Span.name
constexpr int kKind = 6;            // Span.kind
constexpr int kStart = 7;           // Span.start_time_unix_nano
constexpr int kEnd = 8;             // Span.end_time_unix_nano
constexpr int kSpanAttributes = 9;  // Span.attributes
constexpr int kStatus = 15;         // Span.status
constexpr int kStatusMessage = 2;   // Status.message
constexpr int kStatusCode = 3;      // Status.code
constexpr int kKey = 1;             // KeyValue.key
constexpr int kValue = 2;           // KeyValue.value
constexpr int kStringValue = 1;     // AnyValue.string_value
constexpr int kBoolValue = 2;       // AnyValue.bool_value
constexpr int kIntValue = 3;        // AnyValue.int_value
constexpr int kDoubleValue = 4;     // AnyValue.double_value
}  // namespace field

enum WireType : unsigned { kVarint = 0, kFixed64 = 1, kLength = 2 };

// Appends to a string the caller owns.
class Encoder {
 public:
  explicit Encoder(std::string& out) noexcept : out_(out) {}

  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void tag(int number, WireType type) { varint((static_cast<std::uint64_t>(number) << 3) | type); }
  void bytes(int number, std::string_view v) {
    tag(number, kLength);
    varint(v.size());
    out_.append(v);
  }
  void string(int number, std::string_view v) {
    if (!v.empty()) bytes(number, v);  // proto3: the default is not written
  }
  void uint(int number, std::uint64_t v) {
    if (v == 0) return;
    tag(number, kVarint);
    varint(v);
  }
  void fixed64(int number, std::uint64_t v) {
    if (v == 0) return;
    tag(number, kFixed64);
    little_endian(v);
  }
  void little_endian(std::uint64_t v) {
    char raw[8];
    for (int i = 0; i < 8; ++i) raw[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    out_.append(raw, 8);
  }
  // A hex id as the bytes it spells (lowercase hex, validated where the id was made).
  void hex_bytes(int number, std::string_view hex) {
    if (hex.empty()) return;
    tag(number, kLength);
    varint(hex.size() / 2);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      out_.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
    }
  }

  // An embedded message: begin() before its fields, end() after, which writes its length in
  // front of them. Messages nest. begin() leaves one byte for the length, which is all most
  // messages need (under 128 bytes); a longer one moves its fields to make room.
  std::size_t begin(int number) {
    tag(number, kLength);
    out_.push_back('\0');
    return out_.size();
  }
  void end(std::size_t start) {
    std::uint64_t v = out_.size() - start;
    if (v < 0x80) {
      out_[start - 1] = static_cast<char>(v);
      return;
    }
    char prefix[10];
    std::size_t n = 0;
    for (;; v >>= 7) {
      prefix[n++] = static_cast<char>((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
      if (v < 0x80) break;
    }
    out_[start - 1] = prefix[0];
    out_.insert(start, prefix + 1, n - 1);
  }

  void raw(std::string_view bytes) { out_.append(bytes); }

 private:
  static unsigned nibble(char c) noexcept {
    return c <= '9' ? static_cast<unsigned>(c - '0') : static_cast<unsigned>(c - 'a' + 10);
  }
  std::string& out_;
};

void write_value(Encoder& e, const AttributeValue& value) {
  const std::size_t at = e.begin(field::kValue);
  std::visit(
      [&e](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        // A oneof member is written even when it holds its type's default.
        if constexpr (std::is_same_v<T, std::string>) {
          e.bytes(field::kStringValue, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          e.tag(field::kBoolValue, kVarint);
          e.varint(v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          e.tag(field::kIntValue, kVarint);
          e.varint(static_cast<std::uint64_t>(v));  // int64: two's complement, 10 bytes if < 0
        } else {
          std::uint64_t bits = 0;
          static_assert(sizeof(bits) == sizeof(v));
          std::memcpy(&bits, &v, sizeof(bits));
          e.tag(field::kDoubleValue, kFixed64);
          e.little_endian(bits);
        }
      },
      value);
  e.end(at);
}

void write_attributes(Encoder& e, int number, std::span<const Attribute> attributes) {
  for (const Attribute& a : attributes) {
    const std::size_t at = e.begin(number);
    e.string(field::kKey, a.key);
    write_value(e, a.value);
    e.end(at);
  }
}

void write_span(Encoder& e, const SpanData& s) {
  const std::size_t at = e.begin(field::kSpans);
  e.hex_bytes(field::kTraceId, s.trace_id.view());
  e.hex_bytes(field::kSpanId, s.span_id.view());
  e.hex_bytes(field::kParentSpanId, s.parent_span_id.view());
  e.string(field::kName, s.name);
  e.uint(field::kKind, static_cast<std::uint64_t>(s.kind));
  e.fixed64(field::kStart, s.start_unix_nano);
  e.fixed64(field::kEnd, s.end_unix_nano);
  write_attributes(e, field::kSpanAttributes, s.attributes);
  const std::size_t status = e.begin(field::kStatus);
  if (s.status == StatusCode::error) e.string(field::kStatusMessage, s.status_message);
  e.uint(field::kStatusCode, static_cast<std::uint64_t>(s.status));
  e.end(status);
  e.end(at);
}

}  // namespace

void append_proto_span(std::string& out, const SpanData& span) {
  Encoder e(out);
  write_span(e, span);
}

std::string otlp_proto_request(std::span<const Attribute> resource, const Scope& scope,
                               std::string_view spans) {
  std::string out;
  out.reserve(256 + spans.size());
  Encoder e(out);
  const std::size_t resource_spans = e.begin(field::kResourceSpans);
  const std::size_t res = e.begin(field::kResource);
  write_attributes(e, field::kAttributes, resource);
  e.end(res);
  const std::size_t scope_spans = e.begin(field::kScopeSpans);
  const std::size_t sc = e.begin(field::kScope);
  e.string(field::kScopeName, scope.name);
  e.string(field::kScopeVersion, scope.version);
  e.end(sc);
  e.raw(spans);
  e.end(scope_spans);
  e.end(resource_spans);
  return out;
}

}  // namespace kit::otlp
