#include "kit/otlp/otlp_json.hpp"

#include <string>
#include <type_traits>

#include "kit/json/writer.hpp"
#include "kit/util/text.hpp"

namespace kit::otlp {
namespace {

void write_value(json::Writer& w, const AttributeValue& value) {
  w.begin_object();
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          w.field("stringValue", std::string_view(v));
        } else if constexpr (std::is_same_v<T, bool>) {
          w.field("boolValue", v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          w.field("intValue", std::to_string(v));  // int64 is a string in the JSON mapping
        } else {
          w.field("doubleValue", v);
        }
      },
      value);
  w.end_object();
}

void write_attributes(json::Writer& w, std::span<const Attribute> attributes) {
  w.key("attributes").begin_array();
  for (const Attribute& a : attributes) {
    w.begin_object().field("key", std::string_view(a.key)).key("value");
    write_value(w, a.value);
    w.end_object();
  }
  w.end_array();
}

void write_span(json::Writer& w, const SpanData& s) {
  w.begin_object()
      .field("traceId", std::string_view(s.trace_id))
      .field("spanId", std::string_view(s.span_id));
  if (!s.parent_span_id.empty()) w.field("parentSpanId", std::string_view(s.parent_span_id));
  w.field("name", std::string_view(s.name))
      .field("kind", static_cast<int>(s.kind))
      .field("startTimeUnixNano", std::to_string(s.start_unix_nano))
      .field("endTimeUnixNano", std::to_string(s.end_unix_nano));
  write_attributes(w, s.attributes);
  w.key("status").begin_object();
  if (s.status != StatusCode::unset) w.field("code", static_cast<int>(s.status));
  if (s.status == StatusCode::error && !s.status_message.empty()) {
    w.field("message", std::string_view(s.status_message));
  }
  w.end_object();
  w.end_object();
}

}  // namespace

void append_json_span(std::string& out, const SpanData& span) {
  json::Writer w(512);
  write_span(w, span);
  if (!out.empty()) out.push_back(',');
  out.append(w.str());
}

std::string otlp_json_request(std::span<const Attribute> resource, const Scope& scope,
                              std::string_view spans) {
  json::Writer w(256 + spans.size());
  w.begin_object().key("resourceSpans").begin_array().begin_object();
  w.key("resource").begin_object();
  write_attributes(w, resource);
  w.end_object();
  w.key("scopeSpans").begin_array().begin_object();
  w.key("scope")
      .begin_object()
      .field("name", std::string_view(scope.name))
      .field("version", std::string_view(scope.version))
      .end_object();
  w.key("spans").begin_array();
  if (!spans.empty()) w.raw(spans);
  w.end_array();
  w.end_object().end_array();
  w.end_object().end_array().end_object();
  return std::move(w).str();
}

std::optional<std::vector<Attribute>> parse_resource_attributes(std::string_view text,
                                                                std::string& error) {
  std::vector<Attribute> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const std::size_t eq = entry.find('=');
    const std::string_view raw_key = eq == std::string_view::npos ? entry : entry.substr(0, eq);
    const auto key = util::percent_decode(raw_key);
    const auto value =
        eq == std::string_view::npos ? std::nullopt : util::percent_decode(entry.substr(eq + 1));
    if (eq == std::string_view::npos || !key || key->empty() || !value) {
      error =
          "OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas, values "
          "percent-encoded";
      return std::nullopt;
    }
    out.push_back(Attribute{*key, *value});
  }
  return out;
}

}  // namespace kit::otlp
