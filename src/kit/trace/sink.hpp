#pragma once
// Where finished spans go (docs/tracing.md): the OTLP exporter's bounded queue in the service,
// a vector in a test. add() never waits for a collector and never throws; a sink that cannot
// take a span drops it and counts the drop.
#include "kit/trace/span.hpp"

namespace kit::trace {

class SpanSink {
 public:
  virtual ~SpanSink() = default;
  // Returns false when the span was dropped.
  virtual bool add(SpanData span) noexcept = 0;
};

}  // namespace kit::trace
