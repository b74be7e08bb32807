#include "kit/trace/child_span.hpp"

#include <utility>

namespace kit::trace {
namespace {

std::uint64_t now_unix_nano() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

ChildSpan::ChildSpan(const Parent* parent, std::string_view name, SpanKind kind) {
  if (parent == nullptr || parent->sink == nullptr) return;
  sink_ = parent->sink;
  data_.trace_id.assign(parent->trace_id);
  data_.parent_span_id.assign(parent->span_id);
  data_.span_id.randomize();
  data_.name.assign(name);
  data_.kind = kind;
  data_.attributes.reserve(4);
  data_.start_unix_nano = now_unix_nano();
}

ChildSpan::ChildSpan(ChildSpan&& other) noexcept
    : sink_(std::exchange(other.sink_, nullptr)), data_(std::move(other.data_)) {}

void ChildSpan::attribute(std::string_view key, std::string_view value) {
  if (sink_ == nullptr) return;
  data_.attributes.push_back(Attribute{std::string(key), std::string(value)});
}

void ChildSpan::attribute(std::string_view key, std::int64_t value) {
  if (sink_ == nullptr) return;
  data_.attributes.push_back(Attribute{std::string(key), value});
}

void ChildSpan::attribute(std::string_view key, bool value) {
  if (sink_ == nullptr) return;
  data_.attributes.push_back(Attribute{std::string(key), value});
}

void ChildSpan::fail(std::string_view error_type) {
  if (sink_ == nullptr) return;
  data_.status = StatusCode::error;
  attribute("error.type", error_type);
}

const Parent* ChildSpan::as_parent() noexcept {
  if (sink_ == nullptr) return nullptr;
  self_ = Parent{data_.trace_id, data_.span_id, sink_};
  return &self_;
}

std::string ChildSpan::traceparent() const {
  if (sink_ == nullptr) return {};
  return format_traceparent(data_.trace_id, data_.span_id, true);
}

void ChildSpan::end() noexcept {
  if (sink_ == nullptr) return;
  SpanSink* sink = std::exchange(sink_, nullptr);
  data_.end_unix_nano = now_unix_nano();
  sink->add(std::move(data_));
}

}  // namespace kit::trace
