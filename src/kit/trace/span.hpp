#pragma once
// A finished span as the exporter sends it (OpenTelemetry's data model, the fields OTLP carries
// for this service): ids as lowercase hex, times as Unix nanoseconds, typed attributes and a
// status. Made by the tracer at the end of a span; immutable afterwards.
#include <array>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kit/util/random.hpp"

namespace kit::trace {

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

struct Attribute {
  std::string key = {};
  AttributeValue value = {};
};

// OTLP's Span.SpanKind numbers.
enum class SpanKind : int { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

// OTLP's Status.StatusCode numbers: unset unless the span's operation failed (error) or an
// instrumentation asserts success (ok).
enum class StatusCode : int { unset = 0, ok = 1, error = 2 };

// A trace or span id as lowercase hex, in place: a span is made without allocating for its
// ids. Empty, or exactly N digits (assign() of any other length makes it empty).
template <std::size_t N>
class HexId {
 public:
  HexId() noexcept = default;
  HexId(std::string_view hex) noexcept { assign(hex); }  // NOLINT: reads as a string
  HexId& operator=(std::string_view hex) noexcept {
    assign(hex);
    return *this;
  }
  void assign(std::string_view hex) noexcept {
    size_ = hex.size() == N ? N : 0;
    if (size_ != 0) std::memcpy(digits_.data(), hex.data(), size_);  // never from a null view
  }
  // N random digits, never all zero (W3C Trace Context: an all-zero id is invalid).
  void randomize() noexcept {
    static constexpr char kHex[] = "0123456789abcdef";
    bool zero = true;
    while (zero) {
      for (std::size_t i = 0; i < N; i += 16) {
        std::uint64_t r = util::fast_random();
        zero = zero && r == 0;
        for (std::size_t j = 0; j < 16 && i + j < N; ++j, r >>= 4) digits_[i + j] = kHex[r & 0xF];
      }
    }
    size_ = N;
  }
  void clear() noexcept { size_ = 0; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  std::string_view view() const noexcept { return {digits_.data(), size_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: reads as a string
  std::string str() const { return std::string(view()); }
  friend bool operator==(const HexId& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const HexId& a, const HexId& b) noexcept { return a.view() == b.view(); }
  friend std::ostream& operator<<(std::ostream& out, const HexId& id) { return out << id.view(); }

 private:
  std::array<char, N> digits_{};
  std::size_t size_ = 0;
};

using TraceId = HexId<32>;
using SpanId = HexId<16>;

// The W3C traceparent that names span `span_id` of trace `trace_id` as the caller, with the
// sampled flag set when the span is recorded.
inline std::string format_traceparent(std::string_view trace_id, std::string_view span_id,
                                      bool sampled) {
  std::string out;
  out.reserve(55);
  out.append("00-").append(trace_id).append("-").append(span_id).append(sampled ? "-01" : "-00");
  return out;
}

struct SpanData {
  TraceId trace_id = {};
  SpanId span_id = {};
  SpanId parent_span_id = {};  // empty for a root span
  std::string name = {};
  SpanKind kind = SpanKind::internal;
  std::uint64_t start_unix_nano = 0;
  std::uint64_t end_unix_nano = 0;
  std::vector<Attribute> attributes = {};
  StatusCode status = StatusCode::unset;
  std::string status_message = {};  // only with StatusCode::error
};

}  // namespace kit::trace
