#include "kit/otlp/encode.hpp"

#include "kit/otlp/otlp_json.hpp"
#include "kit/otlp/otlp_proto.hpp"

namespace kit::otlp {

void append_span(Encoding encoding, std::string& spans, const SpanData& span) {
  if (encoding == Encoding::json) {
    append_json_span(spans, span);
  } else {
    append_proto_span(spans, span);
  }
}

void join_spans(Encoding encoding, std::string& spans, std::string_view more) {
  // Protobuf spans are repeated fields, which concatenate; JSON objects need a comma.
  if (encoding == Encoding::json && !spans.empty() && !more.empty()) spans.push_back(',');
  spans.append(more);
}

std::string encode_request(Encoding encoding, std::span<const Attribute> resource,
                           const Scope& scope, std::string_view spans) {
  return encoding == Encoding::json ? otlp_json_request(resource, scope, spans)
                                    : otlp_proto_request(resource, scope, spans);
}

std::string encode(Encoding encoding, std::span<const Attribute> resource, const Scope& scope,
                   std::span<const SpanData> spans) {
  std::string encoded;
  encoded.reserve(spans.size() * (encoding == Encoding::json ? 512 : 256));
  for (const SpanData& s : spans) append_span(encoding, encoded, s);
  return encode_request(encoding, resource, scope, encoded);
}

}  // namespace kit::otlp
