#pragma once
// The OTLP/HTTP encodings the exporter writes (OTEL_EXPORTER_OTLP_PROTOCOL): protobuf, the
// OpenTelemetry SDK's default and the smaller (otlp_proto.hpp), or JSON (otlp_json.hpp), and
// what both write besides the spans: the instrumentation scope.
#include <optional>
#include <string>
#include <string_view>

#include "kit/trace/span.hpp"

namespace kit::otlp {

using trace::Attribute;
using trace::AttributeValue;
using trace::SpanData;
using trace::SpanKind;
using trace::StatusCode;

struct Scope {
  std::string name = {};
  std::string version = {};
};

enum class Encoding { protobuf, json };

// "http/protobuf" or "http/json"; nullopt for anything else (grpc is not built).
inline std::optional<Encoding> parse_encoding(std::string_view protocol) noexcept {
  if (protocol == "http/protobuf") return Encoding::protobuf;
  if (protocol == "http/json") return Encoding::json;
  return std::nullopt;
}

inline std::string_view protocol_name(Encoding e) noexcept {
  return e == Encoding::json ? "http/json" : "http/protobuf";
}

inline std::string_view content_type(Encoding e) noexcept {
  return e == Encoding::json ? "application/json" : "application/x-protobuf";
}

}  // namespace kit::otlp
