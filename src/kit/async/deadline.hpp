#pragma once
// How long a request's work may go on. The server gives every request whose handler may wait
// a deadline (RequestContext::deadline, REQUEST_TIMEOUT_SECONDS after its handler starts, once
// the middleware and the rate limiter have let it through) and answers 503 when it passes
// (README "Request timeout"). The work below takes the deadline by value
// and begins no step once it has passed: a job still queued for a worker is dropped instead of
// run (WorkerPool::run), a service does not begin its next write (check()). A step already
// under way finishes within its own bound (one argon2 hash, DATABASE_STATEMENT_TIMEOUT_MS).
//
// A default-constructed Deadline never passes: code run outside a request (the command line,
// tests) passes none.
//
// The deadline also carries the request's place in its trace (docs/tracing.md "Child spans"):
// a sampled request's deadline points at the span its work belongs to, so every step that
// already takes the deadline records its child span under it (trace::ChildSpan); otherwise the
// pointer is null and nothing is recorded. The pointee lives as long as the request.
#include <chrono>

#include "kit/errors/app_error.hpp"
#include "kit/trace/parent.hpp"

namespace kit::async {

// The deadline passed before a step began. A ServiceUnavailable, so that work that outlives
// its deadline anywhere is answered 503 with Retry-After.
struct DeadlineExceeded : kit::errors::ServiceUnavailable {
  DeadlineExceeded()
      : kit::errors::ServiceUnavailable("The request took longer than the server allows") {}
};

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  constexpr Deadline() noexcept = default;
  explicit constexpr Deadline(Clock::time_point at) noexcept : at_(at) {}
  static Deadline after(Clock::duration budget) noexcept { return Deadline(Clock::now() + budget); }

  bool bounded() const noexcept { return at_ != Clock::time_point::max(); }
  bool passed() const noexcept { return bounded() && Clock::now() >= at_; }
  Clock::time_point at() const noexcept { return at_; }
  // Throws DeadlineExceeded once the deadline has passed: call it before beginning a step.
  void check() const {
    if (passed()) throw DeadlineExceeded();
  }

  // The same deadline, with the span its work's child spans belong to (null: none).
  Deadline traced(const kit::trace::Parent* parent) const noexcept {
    Deadline d = *this;
    d.trace_ = parent;
    return d;
  }
  const kit::trace::Parent* trace() const noexcept { return trace_; }

 private:
  Clock::time_point at_ = Clock::time_point::max();
  const kit::trace::Parent* trace_ = nullptr;
};

}  // namespace kit::async
