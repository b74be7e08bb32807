#include "kit/trace/exporter.hpp"

#include <utility>

namespace kit::trace {
namespace {

// The answers OTLP/HTTP says to retry.
bool retryable(long status) noexcept {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace

BatchExporter::BatchExporter(ExporterOptions options)
    : options_(std::move(options)), thread_([this] { run(); }) {}

BatchExporter::~BatchExporter() {
  stop(std::chrono::seconds(5));
}

bool BatchExporter::add(SpanData span) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      dropped_full_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(span));
    wake = queue_.size() >= options_.max_batch;
  }
  if (wake) wake_.notify_one();
  return true;
}

void BatchExporter::stop(std::chrono::milliseconds limit) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      stop_by_ = std::chrono::steady_clock::now() + limit;
    }
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ExporterStats BatchExporter::stats() const noexcept {
  return ExporterStats{exported_.load(std::memory_order_relaxed),
                       dropped_full_.load(std::memory_order_relaxed),
                       dropped_failed_.load(std::memory_order_relaxed)};
}

void BatchExporter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.schedule_delay,
                   [this] { return stopping_ || queue_.size() >= options_.max_batch; });
    while (!queue_.empty()) {
      if (stopping_ && std::chrono::steady_clock::now() >= stop_by_) {
        dropped_failed_.fetch_add(queue_.size(), std::memory_order_relaxed);
        queue_.clear();
        break;
      }
      const std::size_t n = std::min(queue_.size(), options_.max_batch);
      std::vector<SpanData> batch(std::make_move_iterator(queue_.begin()),
                                  std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      const bool stopping = stopping_;
      lock.unlock();
      const bool sent = send(batch, stopping);
      (sent ? exported_ : dropped_failed_).fetch_add(batch.size(), std::memory_order_relaxed);
      lock.lock();
      if (!stopping_ && queue_.size() < options_.max_batch) break;  // wait for the next round
    }
    if (stopping_ && queue_.empty()) return;
  }
}

bool BatchExporter::send(const std::vector<SpanData>& batch, bool stopping) {
  const std::string body = otlp_json(options_.resource, options_.scope, batch);
  outbound::Headers headers = options_.headers;
  headers.emplace_back("Content-Type", "application/json");
  auto delay = options_.retry_base;
  const int attempts = stopping ? 1 : std::max(1, options_.max_attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    bool retry = true;
    try {
      const outbound::HttpResponse res = outbound::post(options_.http, options_.url, headers, body);
      if (res.success()) return true;
      retry = retryable(res.status);
    } catch (const outbound::OutboundError&) {
      // No answer: the collector is down or slow; tried again like a 503.
    }
    if (!retry || attempt == attempts) break;
    // Waits, unless the exporter is told to stop meanwhile.
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, delay, [this] { return stopping_; })) break;
    delay *= 2;
  }
  return false;
}

}  // namespace kit::trace
