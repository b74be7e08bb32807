#include "kit/outbox/traced_post.hpp"

#include <cstdint>
#include <exception>
#include <utility>

namespace kit::outbox {

std::string_view outbound_error_type(const std::exception& e) noexcept {
  const auto* outbound = dynamic_cast<const outbound::OutboundError*>(&e);
  return outbound != nullptr ? outbound->kind() : std::string_view("_OTHER");
}

outbound::HttpResponse traced_post(const trace::Tracer& tracer,
                                   const trace::ServerEndpoint& endpoint,
                                   const outbound::HttpOptions& http, const std::string& url,
                                   outbound::Headers headers, std::string_view body,
                                   std::string_view event_id) {
  // OpenTelemetry's HTTP client conventions; no header, body or recipient is recorded.
  trace::RootSpan span = tracer.start("POST", trace::SpanKind::client);
  span.attribute("http.request.method", "POST");
  span.attribute("server.address", endpoint.address);
  if (endpoint.port != 0) span.attribute("server.port", endpoint.port);
  span.attribute("url.full", endpoint.url);
  if (!event_id.empty()) span.attribute("messaging.message.id", event_id);
  headers.emplace_back("traceparent", span.traceparent());
  outbound::HttpResponse response;
  try {
    response = outbound::post(http, url, headers, body);
  } catch (const std::exception& e) {
    span.fail(outbound_error_type(e));
    throw;
  }
  span.attribute("http.response.status_code", static_cast<std::int64_t>(response.status));
  if (response.status >= 400) span.fail(std::to_string(response.status));
  return response;
}

}  // namespace kit::outbox
