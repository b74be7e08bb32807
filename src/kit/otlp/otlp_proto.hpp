#pragma once
// The OTLP/HTTP protobuf encoding of spans (docs/tracing.md "The exporter"): an
// opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest in the protobuf wire format,
// with one resource and one instrumentation scope, written field by field (trace and span ids
// as bytes, times as fixed64). It carries what otlp_json.hpp carries, in about a third of the
// bytes and without escaping, which is why it is the default encoding. Debian packages the
// protobuf runtime but not the OpenTelemetry .proto files, and the messages used here are few
// and stable, so the encoder is written out; the tests decode its output with the official
// definitions.
#include <span>
#include <string>
#include <string_view>

#include "kit/otlp/encoding.hpp"
#include "kit/trace/span.hpp"

namespace kit::otlp {

// append_proto_span adds a span to `out` as one entry of ScopeSpans.spans, so encoded spans
// concatenate; otlp_proto_request makes a request of them. Used through encode.hpp.
void append_proto_span(std::string& out, const SpanData& span);
std::string otlp_proto_request(std::span<const Attribute> resource, const Scope& scope,
                               std::string_view spans);

}  // namespace kit::otlp
