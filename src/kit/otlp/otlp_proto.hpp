#pragma once
// The OTLP/HTTP protobuf encoding of a batch of spans (docs/tracing.md "The exporter"): an
// opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest in the protobuf wire format,
// with one resource and one instrumentation scope, written field by field (trace and span ids
// as bytes, times as fixed64). It carries what otlp_json() carries, in about a third of the
// bytes and without escaping, which is why it is the default encoding. Debian packages the
// protobuf runtime but not the OpenTelemetry .proto files, and the messages used here are few
// and stable, so the encoder is written out; the tests decode its output with the official
// definitions.
#include <span>
#include <string>

#include "kit/otlp/encoding.hpp"
#include "kit/trace/span.hpp"

namespace kit::otlp {

std::string otlp_proto(std::span<const Attribute> resource, const Scope& scope,
                       std::span<const SpanData> spans);

}  // namespace kit::otlp
