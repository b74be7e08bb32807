#include "kit/outbox/traced_post.hpp"

#include <cstdint>
#include <exception>
#include <utility>

namespace kit::outbox {

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
  } catch (const outbound::OutboundError& e) {
    span.fail(e.kind());
    throw;
  } catch (const std::exception&) {
    span.fail("_OTHER");
    throw;
  }
  span.attribute("http.response.status_code", static_cast<std::int64_t>(response.status));
  if (response.status >= 400) span.fail(std::to_string(response.status));
  return response;
}

}  // namespace kit::outbox
