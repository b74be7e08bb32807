#pragma once
// The span that work below a request belongs to (docs/tracing.md "Child spans"): its trace and
// span ids and the sink its children go to. A request that is sampled has one (the server's
// RequestContext owns it), and the request's kit::async::Deadline carries a pointer to it down
// to every database statement, Redis call and password hash, which record a ChildSpan under
// it. An unsampled request has none, and its work records nothing: no id, no clock, no
// allocation.
#include <string_view>

#include "kit/trace/sink.hpp"

namespace kit::trace {

struct Parent {
  std::string_view trace_id = {};  // 32 lowercase hex digits
  std::string_view span_id = {};   // 16 lowercase hex digits
  SpanSink* sink = nullptr;        // null: not recording
};

}  // namespace kit::trace
