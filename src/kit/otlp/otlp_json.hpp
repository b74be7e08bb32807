#pragma once
// The OTLP/HTTP JSON encoding of spans: an ExportTraceServiceRequest as the OpenTelemetry
// protocol's JSON mapping writes it (trace and span ids as hex strings, enums as numbers,
// 64-bit integers as decimal strings, lowerCamelCase field names), with one resource and one
// instrumentation scope. Used through encode.hpp.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kit/otlp/encoding.hpp"
#include "kit/trace/span.hpp"

namespace kit::otlp {

// append_json_span adds one span object to `out`, after a comma when `out` is not empty
// (encoded spans join with a comma); otlp_json_request makes a request of such a list.
void append_json_span(std::string& out, const SpanData& span);
std::string otlp_json_request(std::span<const Attribute> resource, const Scope& scope,
                              std::string_view spans);

// OTEL_RESOURCE_ATTRIBUTES: "key=value,key=value", values percent-encoded. nullopt with `error`
// set when an entry has no '=' or an empty key, or a bad percent sequence.
std::optional<std::vector<Attribute>> parse_resource_attributes(std::string_view text,
                                                                std::string& error);

}  // namespace kit::otlp
