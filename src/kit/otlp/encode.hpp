#pragma once
// Spans in the encoding the exporter was set up with (encoding.hpp): the one place that picks
// between otlp_proto.hpp and otlp_json.hpp. A span is encoded once, when it ends
// (append_span), and encoded spans concatenate, so a batch is a request around them
// (encode_request); encode() does both for a whole batch.
#include <span>
#include <string>
#include <string_view>

#include "kit/otlp/encoding.hpp"
#include "kit/trace/span.hpp"

namespace kit::otlp {

// Adds `span` to `spans`, a list of encoded spans (JSON: after a comma when not empty).
void append_span(Encoding encoding, std::string& spans, const SpanData& span);
// Joins two lists of encoded spans: `more` is added to `spans`.
void join_spans(Encoding encoding, std::string& spans, std::string_view more);
// The ExportTraceServiceRequest around a list of encoded spans.
std::string encode_request(Encoding encoding, std::span<const Attribute> resource,
                           const Scope& scope, std::string_view spans);
// Both steps for a batch.
std::string encode(Encoding encoding, std::span<const Attribute> resource, const Scope& scope,
                   std::span<const SpanData> spans);

}  // namespace kit::otlp
