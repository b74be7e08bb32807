#pragma once
// The background writer of the log: callers append finished lines to a shared buffer and one
// thread writes whatever has gathered with a single write(2), then lingers a moment so that
// lines arriving under load are batched instead of costing a syscall and a wake-up each.
// A caller never waits for the output (README "Logging"): when `max_pending_bytes` are already
// waiting — stdout is blocked or slower than the lines arrive — a new line is dropped and
// counted, and once a write succeeds again the writer adds one notice line saying how many were
// dropped. Memory stays bounded by two buffers of `max_pending_bytes` (one being written, one
// gathering). stop() writes everything accepted so far before it returns; lines pushed after
// stop() are written synchronously by the caller, in order with the rest.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace kit::log {

class AsyncWriter {
 public:
  struct Options {
    std::size_t max_pending_bytes = 4 * 1024 * 1024;
    std::chrono::microseconds linger{1000};  // after a write, gather lines this long
    // The notice line (without the newline) for `dropped` lines lost since the last notice;
    // called on the writer thread, outside the lock. Null, or an empty result: no notice.
    std::function<std::string(std::uint64_t dropped)> dropped_notice = nullptr;
  };

  // Writes to `fd` (not owned; stdout in the service).
  AsyncWriter(int fd, Options options);
  ~AsyncWriter();  // stop()
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  // Appends `line` and a newline.
  void push(std::string_view line);
  // Returns once every line pushed before the call is written.
  void flush();
  // Writes what is pending and ends the thread. Idempotent.
  void stop();
  bool running() const;
  // Lines dropped because the buffer was full, since construction.
  std::uint64_t dropped_total() const noexcept {
    return dropped_total_.load(std::memory_order_relaxed);
  }

 private:
  void run();
  void write_all(std::string_view data);
  // After a write: queues the notice for the lines dropped since the last one, if any.
  void queue_dropped_notice();

  const int fd_;
  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable has_data_;  // the writer waits here
  std::condition_variable progress_;  // blocked producers and flush() wait here
  std::string pending_;
  std::uint64_t pushed_bytes_ = 0;   // ever appended
  std::uint64_t written_bytes_ = 0;  // ever written
  std::uint64_t dropped_since_notice_ = 0;
  std::atomic<std::uint64_t> dropped_total_{0};
  bool writer_waiting_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::mutex join_mutex_;  // stop() may be called from two threads
  std::thread thread_;
};

}  // namespace kit::log
