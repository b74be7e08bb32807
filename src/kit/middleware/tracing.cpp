#include "kit/middleware/tracing.hpp"

#include <chrono>
#include <string>

#include "kit/http/router.hpp"

namespace kit::middleware {
namespace {

std::uint64_t unix_nano(std::chrono::system_clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// http.request.method: the known methods as they are, anything else "_OTHER" (the semantic
// conventions' rule, which also keeps a client's invented method out of span names).
std::string_view method_of(const http::Request& req) {
  switch (req.method()) {
    case http::Verb::get:
    case http::Verb::head:
    case http::Verb::post:
    case http::Verb::put:
    case http::Verb::delete_:
    case http::Verb::connect:
    case http::Verb::options:
    case http::Verb::trace:
    case http::Verb::patch:
      return req.method_string();
    default:
      return "_OTHER";
  }
}

}  // namespace

std::optional<http::Response> Tracing::before(http::Request& /*req*/, http::RequestContext& ctx) {
  const std::optional<bool> parent =
      ctx.trace.parent_id.empty() ? std::nullopt : std::optional<bool>(ctx.trace.sampled());
  const bool sampled = sampler_.should_sample(ctx.trace.trace_id, parent);
  ctx.trace.flags.assign(sampled ? "01" : "00");
  if (sampled) ctx.child_spans = trace::Parent{ctx.trace.trace_id, ctx.trace.span_id, &sink_};
  return std::nullopt;
}

void Tracing::after(http::Request& req, http::RequestContext& ctx, http::Response& res) {
  if (!ctx.trace.sampled()) return;
  sink_.add(server_span(req, ctx, res.result_int(), std::chrono::system_clock::now()));
}

trace::SpanData server_span(const http::Request& req, const http::RequestContext& ctx,
                            unsigned status, std::chrono::system_clock::time_point end) {
  using trace::Attribute;
  const std::string_view method = method_of(req);
  trace::SpanData span;
  span.trace_id = ctx.trace.trace_id;
  span.span_id = ctx.trace.span_id;
  span.parent_span_id = ctx.trace.parent_id;
  span.name = std::string(method);
  if (!ctx.route.empty()) {
    span.name += ' ';
    span.name += ctx.route;
  }
  span.kind = trace::SpanKind::server;
  // The request's start on the wall clock: its steady-clock age taken from the end.
  const auto age = std::chrono::steady_clock::now() - ctx.started;
  span.end_unix_nano = unix_nano(end);
  span.start_unix_nano =
      unix_nano(end - std::chrono::duration_cast<std::chrono::system_clock::duration>(age));
  span.attributes.reserve(6);
  span.attributes.push_back(Attribute{"http.request.method", std::string(method)});
  span.attributes.push_back(Attribute{"url.path", std::string(http::target_path(req.target()))});
  if (!ctx.route.empty())
    span.attributes.push_back(Attribute{"http.route", std::string(ctx.route)});
  span.attributes.push_back(
      Attribute{"http.response.status_code", static_cast<std::int64_t>(status)});
  if (!ctx.client_ip.empty()) span.attributes.push_back(Attribute{"client.address", ctx.client_ip});
  if (status >= 500) {
    span.attributes.push_back(Attribute{"error.type", std::to_string(status)});
    span.status = trace::StatusCode::error;
  }
  return span;
}

}  // namespace kit::middleware
