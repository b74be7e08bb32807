#pragma once
// An outbox destination's HTTP call as a CLIENT span (docs/tracing.md "Outbound calls"). A
// delivery has no request parent: every attempt starts a trace of its own (trace::Tracer).
#include <exception>
#include <string>
#include <string_view>

#include "kit/outbound/http_post.hpp"
#include "kit/trace/tracer.hpp"

namespace kit::outbox {

// The error.type of an outbound call that got no answer: OutboundError::kind(), or "_OTHER".
std::string_view outbound_error_type(const std::exception& e) noexcept;

// outbound::post() as a CLIENT span named POST, with the HTTP client attributes of `endpoint`
// (server.address, server.port, url.full) and `event_id` as messaging.message.id: the span's
// traceparent is added to `headers`, the answer's status is recorded (status error from 400 on,
// error.type the status code), and a call that got no answer fails the span with its
// OutboundError::kind() before the error
// propagates. Blocks: call it on the destination's worker pool.
outbound::HttpResponse traced_post(const trace::Tracer& tracer,
                                   const trace::ServerEndpoint& endpoint,
                                   const outbound::HttpOptions& http, const std::string& url,
                                   outbound::Headers headers, std::string_view body,
                                   std::string_view event_id);

}  // namespace kit::outbox
