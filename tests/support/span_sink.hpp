#pragma once
// A kit::trace::SpanSink that keeps every span it is given, for tests of the code that records
// spans (docs/tracing.md), from any thread (the outbox destinations record on their worker's).
#include <mutex>
#include <utility>
#include <vector>

#include "kit/trace/sink.hpp"

namespace test_support {

class CollectingSpanSink final : public kit::trace::SpanSink {
 public:
  bool add(kit::trace::SpanData span) noexcept override {
    const std::lock_guard lock(mu_);
    spans_.push_back(std::move(span));
    return true;
  }
  // A copy of what arrived so far, in arrival order.
  std::vector<kit::trace::SpanData> spans() const {
    const std::lock_guard lock(mu_);
    return spans_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<kit::trace::SpanData> spans_;
};

}  // namespace test_support
