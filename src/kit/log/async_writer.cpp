#include "kit/log/async_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace kit::log {

namespace {

// A batch buffer larger than this is given back after a burst, so idle memory stays small.
constexpr std::size_t kKeepCapacity = 64 * 1024;

}  // namespace

AsyncWriter::AsyncWriter(int fd, Options options) : fd_(fd), options_(options) {
  pending_.reserve(kKeepCapacity / 4);
  thread_ = std::thread([this] { run(); });
}

AsyncWriter::~AsyncWriter() {
  stop();
}

bool AsyncWriter::running() const {
  std::lock_guard lock(mutex_);
  return !stopped_;
}

void AsyncWriter::push(std::string_view line) {
  std::unique_lock lock(mutex_);
  if (stopped_) {
    // After stop(): the caller writes itself, still one whole line per write and in order.
    std::string out;
    out.reserve(line.size() + 1);
    out.append(line);
    out.push_back('\n');
    write_all(out);
    return;
  }
  // Full (the writer is stuck or behind): drop rather than wait. One line always fits into an
  // empty buffer, so a long line alone is never dropped.
  if (!pending_.empty() && pending_.size() + line.size() + 1 > options_.max_pending_bytes) {
    ++dropped_since_notice_;
    dropped_total_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pending_.append(line);
  pending_.push_back('\n');
  pushed_bytes_ += line.size() + 1;
  const bool wake = writer_waiting_;
  lock.unlock();
  // Only a sleeping writer needs a wake-up; while it writes or lingers, lines just gather.
  if (wake) has_data_.notify_one();
}

void AsyncWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = pushed_bytes_;
  if (writer_waiting_) has_data_.notify_one();
  progress_.wait(lock, [&] { return written_bytes_ >= target || stopped_; });
}

void AsyncWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  has_data_.notify_one();
  progress_.notify_all();
  std::lock_guard join_lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void AsyncWriter::run() {
  std::string batch;
  batch.reserve(kKeepCapacity / 4);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      writer_waiting_ = true;
      has_data_.wait(lock, [this] { return !pending_.empty() || stopping_; });
      writer_waiting_ = false;
      if (pending_.empty()) {  // stopping, and everything is written
        stopped_ = true;
        break;
      }
      batch.swap(pending_);
    }
    write_all(batch);
    {
      std::lock_guard lock(mutex_);
      written_bytes_ += batch.size();
    }
    progress_.notify_all();
    queue_dropped_notice();
    batch.clear();
    if (batch.capacity() > kKeepCapacity) {
      batch.shrink_to_fit();
      batch.reserve(kKeepCapacity / 4);
    }
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      stopping = stopping_;
    }
    if (!stopping && options_.linger.count() > 0) std::this_thread::sleep_for(options_.linger);
  }
  progress_.notify_all();
}

void AsyncWriter::queue_dropped_notice() {
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    dropped = std::exchange(dropped_since_notice_, 0);
  }
  if (dropped == 0 || !options_.dropped_notice) return;
  const std::string notice = options_.dropped_notice(dropped);
  if (notice.empty()) return;
  std::lock_guard lock(mutex_);
  // Past the bound by one line at most: the notice is what says the bound was hit.
  pending_.append(notice);
  pending_.push_back('\n');
  pushed_bytes_ += notice.size() + 1;
}

void AsyncWriter::write_all(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stdout is gone: nothing better to do with the lines
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace kit::log
