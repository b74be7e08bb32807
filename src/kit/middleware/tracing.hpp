#pragma once
// One SERVER span per request (docs/tracing.md), following OpenTelemetry's HTTP semantic
// conventions: named "{method} {http.route}", with http.request.method, url.path, http.route,
// http.response.status_code, client.address, and error.type with an error status on a 5xx (a
// 4xx leaves the status unset). The sampler decides at the start, from the incoming
// traceparent's sampled flag; the decision is the trace flags the request carries on (logs,
// outbound calls). A sampled request's work records child spans under this one (its
// RequestContext::child_spans). A sampled span goes to the exporter's queue when the response
// is ready: the request never waits for the collector.
#include "kit/http/pipeline.hpp"
#include "kit/trace/sampler.hpp"
#include "kit/trace/sink.hpp"

namespace kit::middleware {

class Tracing final : public http::HookMiddleware {
 public:
  // `sink` (the exporter) must outlive the middleware.
  Tracing(trace::Sampler sampler, trace::SpanSink& sink) noexcept
      : sampler_(sampler), sink_(sink) {}

  std::optional<http::Response> before(http::Request& req, http::RequestContext& ctx) override;
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;

 private:
  trace::Sampler sampler_;
  trace::SpanSink& sink_;
};

// The SERVER span of a finished exchange, as Tracing exports it.
trace::SpanData server_span(const http::Request& req, const http::RequestContext& ctx,
                            unsigned status, std::chrono::system_clock::time_point end);

}  // namespace kit::middleware
