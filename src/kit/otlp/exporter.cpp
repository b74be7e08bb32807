#include "kit/otlp/exporter.hpp"

#include <new>
#include <utility>

#include "kit/otlp/otlp_proto.hpp"

namespace kit::otlp {
namespace {

// The answers OTLP/HTTP says to retry.
bool retryable(long status) noexcept {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace

namespace {

std::vector<SpanData> reserved(std::size_t capacity) {
  std::vector<SpanData> v;
  v.reserve(capacity);
  return v;
}

}  // namespace

BatchExporter::BatchExporter(ExporterOptions options)
    : options_(std::move(options)),
      queue_(reserved(options_.max_queue)),
      thread_([this] { run(); }) {}

BatchExporter::~BatchExporter() {
  stop(std::chrono::seconds(5));
}

bool BatchExporter::add(SpanData span) noexcept {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      dropped_full_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    try {
      queue_.push_back(std::move(span));
    } catch (const std::bad_alloc&) {
      dropped_full_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
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
  // The queue is taken whole, by swapping vectors under the lock (constant time), and sent in
  // batches outside it: a request's add() never waits while a batch is copied or encoded.
  std::vector<SpanData> taken;
  taken.reserve(options_.max_queue);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.schedule_delay,
                   [this] { return stopping_ || queue_.size() >= options_.max_batch; });
    taken.swap(queue_);
    const bool stopping = stopping_;
    const auto stop_by = stop_by_;
    lock.unlock();
    const std::span<const SpanData> all(taken);
    for (std::size_t at = 0; at < all.size(); at += options_.max_batch) {
      const auto batch = all.subspan(at, std::min(options_.max_batch, all.size() - at));
      if (stopping && std::chrono::steady_clock::now() >= stop_by) {
        dropped_failed_.fetch_add(all.size() - at, std::memory_order_relaxed);
        break;
      }
      const bool sent = send(batch, stopping);
      (sent ? exported_ : dropped_failed_).fetch_add(batch.size(), std::memory_order_relaxed);
    }
    taken.clear();  // keeps its capacity: the next swap gives it back to add()
    lock.lock();
    if (stopping_ && queue_.empty()) return;
  }
}

bool BatchExporter::send(std::span<const SpanData> batch, bool stopping) {
  const std::string body = options_.encoding == Encoding::json
                               ? otlp_json(options_.resource, options_.scope, batch)
                               : otlp_proto(options_.resource, options_.scope, batch);
  outbound::Headers headers = options_.headers;
  headers.emplace_back("Content-Type", std::string(content_type(options_.encoding)));
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

}  // namespace kit::otlp
