#pragma once
// A finished span as the exporter sends it (OpenTelemetry's data model, the fields OTLP carries
// for this service): ids as lowercase hex, times as Unix nanoseconds, typed attributes and a
// status. Made by the tracer at the end of a span; immutable afterwards.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace kit::trace {

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

struct Attribute {
  std::string key = {};
  AttributeValue value = {};
};

// OTLP's Span.SpanKind numbers.
enum class SpanKind : int { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

// OTLP's Status.StatusCode numbers: unset unless the span's operation failed (error) or an
// instrumentation asserts success (ok).
enum class StatusCode : int { unset = 0, ok = 1, error = 2 };

struct SpanData {
  std::string trace_id = {};        // 32 lowercase hex digits
  std::string span_id = {};         // 16 lowercase hex digits
  std::string parent_span_id = {};  // 16 lowercase hex digits; empty for a root span
  std::string name = {};
  SpanKind kind = SpanKind::internal;
  std::uint64_t start_unix_nano = 0;
  std::uint64_t end_unix_nano = 0;
  std::vector<Attribute> attributes = {};
  StatusCode status = StatusCode::unset;
  std::string status_message = {};  // only with StatusCode::error
};

}  // namespace kit::trace
