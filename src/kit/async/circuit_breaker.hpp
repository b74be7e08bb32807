#pragma once
// A circuit breaker for one outbound destination. After `failure_threshold` failures in a row
// it opens: calls are refused (the caller keeps its work for later) for `open_for`. Then it
// lets one trial call through (half-open): a success closes it, a failure opens it again for
// another `open_for`. Not thread-safe: one breaker belongs to one dispatcher, which calls it
// from one place. Times are passed in, so the rules are tested without waiting.
#include <chrono>
#include <cstdint>

namespace kit::async {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { closed, open, half_open };

  struct Options {
    unsigned failure_threshold = 5;
    std::chrono::milliseconds open_for{30'000};
  };

  explicit CircuitBreaker(Options options) : options_(options) {
    if (options_.failure_threshold == 0) options_.failure_threshold = 1;
  }

  // Whether a call may go out at `now`. In the half-open state only one trial is out at a time:
  // later callers are refused until its outcome is recorded.
  bool allow(Clock::time_point now) noexcept {
    switch (state_) {
      case State::closed:
        return true;
      case State::open:
        if (now < reopen_at_) return false;
        state_ = State::half_open;
        trial_out_ = true;
        return true;
      case State::half_open:
        if (trial_out_) return false;
        trial_out_ = true;
        return true;
    }
    return false;
  }

  void record_success() noexcept {
    state_ = State::closed;
    failures_ = 0;
    trial_out_ = false;
  }

  // A call allow() let through was not made after all (nothing to send): the breaker is as it
  // was, and a half-open breaker lets the next trial through.
  void cancel() noexcept { trial_out_ = false; }

  void record_failure(Clock::time_point now) noexcept {
    trial_out_ = false;
    if (state_ == State::half_open || ++failures_ >= options_.failure_threshold) {
      if (state_ != State::open) ++openings_;
      state_ = State::open;
      reopen_at_ = now + options_.open_for;
      failures_ = 0;
    }
  }

  State state() const noexcept { return state_; }
  // How many times it has opened (a half-open trial that fails opens it again and counts).
  std::uint64_t openings() const noexcept { return openings_; }

 private:
  Options options_;
  State state_ = State::closed;
  unsigned failures_ = 0;
  bool trial_out_ = false;
  Clock::time_point reopen_at_{};
  std::uint64_t openings_ = 0;
};

}  // namespace kit::async
