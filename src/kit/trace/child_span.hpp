#pragma once
// A span below another (docs/tracing.md "Child spans"): started by the constructor, ended by
// end() or the destructor, which hands it to the parent's sink. Made from a null Parent (an
// unsampled request, work outside a request), it records nothing and every call is a no-op,
// so instrumented code needs no branch of its own.
//
//   trace::ChildSpan span(deadline.trace(), "SELECT user_by_id", trace::SpanKind::client);
//   span.attribute("db.system.name", "postgresql");
//   ... co_await the statement ...
//   // on an exception: span.fail(type) before it propagates
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "kit/trace/parent.hpp"
#include "kit/trace/span.hpp"

namespace kit::trace {

class ChildSpan {
 public:
  ChildSpan() noexcept = default;  // records nothing
  ChildSpan(const Parent* parent, std::string_view name, SpanKind kind = SpanKind::internal);
  ChildSpan(ChildSpan&& other) noexcept;
  ChildSpan& operator=(ChildSpan&&) = delete;
  ChildSpan(const ChildSpan&) = delete;
  ChildSpan& operator=(const ChildSpan&) = delete;
  ~ChildSpan() { end(); }

  bool recording() const noexcept { return sink_ != nullptr; }
  // Its id (16 hex digits); empty when not recording.
  std::string_view span_id() const noexcept {
    return recording() ? data_.span_id.view() : std::string_view();
  }

  void attribute(std::string_view key, std::string_view value);
  void attribute(std::string_view key, const char* value) {
    attribute(key, std::string_view(value));
  }
  void attribute(std::string_view key, std::int64_t value);
  void attribute(std::string_view key, bool value);
  // The operation failed: status error, with `error_type` as the span's error.type attribute
  // (a class of failure, never a message that could hold data).
  void fail(std::string_view error_type);

  // This span as the parent of spans below it (null when not recording). Valid while this
  // object lives and has not ended.
  const Parent* as_parent() noexcept;
  // The W3C traceparent that names this span as the caller (for a CLIENT span's outgoing
  // request), sampled; empty when not recording.
  std::string traceparent() const;

  // Stamps the end time and hands the span to the sink; later calls do nothing.
  void end() noexcept;

 private:
  SpanSink* sink_ = nullptr;
  SpanData data_;
  Parent self_;
};

}  // namespace kit::trace
