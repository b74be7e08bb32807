#pragma once
// The background writer of the log: callers append finished lines to a shared buffer and one
// thread writes whatever has gathered with a single write(2), then lingers a moment so that
// lines arriving under load are batched instead of costing a syscall and a wake-up each.
// Nothing is dropped: when `max_pending_bytes` are waiting, callers block until the writer
// catches up. stop() writes everything accepted so far before it returns; lines pushed after
// stop() are written synchronously by the caller, in order with the rest.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
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

 private:
  void run();
  void write_all(std::string_view data);

  const int fd_;
  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable has_data_;  // the writer waits here
  std::condition_variable progress_;  // blocked producers and flush() wait here
  std::string pending_;
  std::uint64_t pushed_bytes_ = 0;   // ever appended
  std::uint64_t written_bytes_ = 0;  // ever written
  bool writer_waiting_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::mutex join_mutex_;  // stop() may be called from two threads
  std::thread thread_;
};

}  // namespace kit::log
