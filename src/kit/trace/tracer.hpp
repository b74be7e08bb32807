#pragma once
// Spans of work outside a request (docs/tracing.md "Outbound calls"): an outbox delivery has no
// request to be the child of, so each of its calls starts a trace of its own. The Tracer decides
// as the SERVER span of a new trace is decided (Sampler::should_sample without a parent) and
// hands recorded spans to its sink. A span that is not recorded (not sampled, or no sink:
// tracing is off) still has ids, so the traceparent sent onwards names a trace the receiver can
// log, with the sampled flag 00.
//
//   trace::RootSpan span = tracer.start("POST", trace::SpanKind::client);
//   span.attribute("server.address", endpoint.address);
//   headers.emplace_back("traceparent", span.traceparent());
//   ... the call; on a failure span.fail("timeout") before the span ends ...
#include <cstdint>
#include <string>
#include <string_view>

#include "kit/trace/child_span.hpp"
#include "kit/trace/parent.hpp"
#include "kit/trace/sampler.hpp"
#include "kit/trace/sink.hpp"
#include "kit/trace/span.hpp"

namespace kit::trace {

// The first span of a new trace (no parent). Ended by end() or the destructor, like a
// ChildSpan; every call is a no-op when it is not recording.
class RootSpan {
 public:
  RootSpan() noexcept = default;  // no ids, records nothing: traceparent() is empty
  RootSpan(RootSpan&& other) noexcept = default;
  RootSpan& operator=(RootSpan&&) = delete;
  RootSpan(const RootSpan&) = delete;
  RootSpan& operator=(const RootSpan&) = delete;
  ~RootSpan() = default;  // span_ ends itself

  bool recording() const noexcept { return span_.recording(); }
  // 32 lowercase hex digits; empty for a default-constructed span.
  const std::string& trace_id() const noexcept { return trace_id_; }
  // 16 lowercase hex digits; empty for a default-constructed span.
  const std::string& span_id() const noexcept { return span_id_; }

  void attribute(std::string_view key, std::string_view value) { span_.attribute(key, value); }
  void attribute(std::string_view key, const char* value) {
    span_.attribute(key, std::string_view(value));
  }
  void attribute(std::string_view key, std::int64_t value) { span_.attribute(key, value); }
  void attribute(std::string_view key, bool value) { span_.attribute(key, value); }
  // Status error, with `error_type` as error.type (a class of failure, never a message).
  void fail(std::string_view error_type) { span_.fail(error_type); }

  // This span as the parent of spans below it (null when not recording).
  const Parent* as_parent() noexcept { return span_.as_parent(); }
  // The W3C traceparent naming this span as the caller: flags 01 when it is recorded, 00 when
  // not (the same after end()); empty for a default-constructed span.
  std::string traceparent() const;

  void end() noexcept { span_.end(); }

 private:
  friend class Tracer;
  // A recording span of the trace `trace_id`, handed to `sink` when it ends.
  RootSpan(std::string trace_id, SpanSink* sink, std::string_view name, SpanKind kind);

  std::string trace_id_;  // before span_, which is made from it
  ChildSpan span_;
  std::string span_id_;   // span_'s, kept after it ends (or a new one when not recorded)
  bool sampled_ = false;  // recorded: the traceparent's flags are 01
};

class Tracer {
 public:
  Tracer() noexcept = default;  // records nothing (its spans still carry ids)
  // `sink` null: records nothing, as when tracing is off. The sink outlives the tracer and
  // every span it starts.
  Tracer(Sampler sampler, SpanSink* sink) noexcept : sampler_(sampler), sink_(sink) {}

  // Whether any span can be recorded (a sink is set).
  bool enabled() const noexcept { return sink_ != nullptr; }

  // Starts a span of a new trace: a random trace id (never all zero), recorded when there is a
  // sink and the sampler keeps the trace.
  RootSpan start(std::string_view name, SpanKind kind = SpanKind::internal) const;

 private:
  Sampler sampler_;
  SpanSink* sink_ = nullptr;
};

// What OpenTelemetry's client semantic conventions record of the server a URL names:
// `server.address` (the host, an IPv6 address without its brackets), `server.port` (the one
// given, else the scheme's default: http 80, https 443, smtp 25, smtps 465; 0 when unknown) and
// `url.full` (the URL without user information, query or fragment: never a credential).
struct ServerEndpoint {
  std::string address = {};
  std::int64_t port = 0;
  std::string url = {};
};
ServerEndpoint server_endpoint(std::string_view url);

}  // namespace kit::trace
