#include "kit/otlp/exporter.hpp"

#include <algorithm>
#include <new>
#include <utility>

#include "kit/otlp/encode.hpp"

namespace kit::otlp {
namespace {

// The answers OTLP/HTTP says to retry.
bool retryable(long status) noexcept {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// The shard a thread adds to: threads are given shards in turn, so the I/O threads, which end
// most spans, each have one of their own.
std::size_t shard_of_this_thread(std::size_t shards) noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index % shards;
}

}  // namespace

BatchExporter::BatchExporter(ExporterOptions options)
    : options_(std::move(options)), client_(options_.http), thread_([this] { run(); }) {}

BatchExporter::~BatchExporter() {
  stop(std::chrono::seconds(5));
}

bool BatchExporter::add(SpanData span) noexcept {
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= options_.max_queue) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    dropped_full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Shard& shard = shards_[shard_of_this_thread(kShards)];
  bool full = false;
  {
    std::lock_guard lock(shard.mutex);
    // Checked under the shard's lock: the final collection takes every shard's lock after
    // closed_ is set, so a span is either collected or refused, never left behind.
    bool added = !closed_.load(std::memory_order_acquire);
    if (added) {
      const std::size_t before = shard.open.bytes.size();
      try {
        if (shard.open.bytes.empty()) shard.open.bytes.reserve(options_.max_batch * 256);
        append_span(options_.encoding, shard.open.bytes, span);
        if (shard.open.spans + 1 >= options_.max_batch) {
          // Handed over under the shard's lock, for the same reason.
          std::lock_guard ready(mutex_);
          ready_.emplace_back();  // the only step that can throw: nothing is moved yet
          ready_.back() = std::exchange(shard.open, Chunk{});
          ++ready_.back().spans;
          full = true;
        } else {
          ++shard.open.spans;
        }
      } catch (const std::bad_alloc&) {
        shard.open.bytes.resize(before);
        added = false;
      }
    }
    if (!added) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      dropped_full_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  if (full) wake_.notify_one();
  return true;
}

void BatchExporter::stop(std::chrono::milliseconds limit) {
  closed_.store(true, std::memory_order_release);
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

void BatchExporter::collect_open(std::vector<Chunk>& into) {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    if (shard.open.spans != 0) into.push_back(std::exchange(shard.open, Chunk{}));
  }
}

void BatchExporter::run() {
  // Full chunks are taken by swapping vectors under the lock; every schedule_delay (and when
  // stopping) the open chunks too. Everything is sent outside the lock.
  std::vector<Chunk> taken;
  auto next_collection = std::chrono::steady_clock::now() + options_.schedule_delay;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_until(lock, next_collection, [this] { return stopping_ || !ready_.empty(); });
    taken.swap(ready_);
    const bool stopping = stopping_;
    const auto stop_by = stop_by_;
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    if (stopping || now >= next_collection) {
      collect_open(taken);
      next_collection = now + options_.schedule_delay;
    }
    send_all(taken, stopping, stop_by);
    taken.clear();
    lock.lock();
    // Stopping: closed_ was set before stopping_, so the collection above was the last one.
    if (stopping && ready_.empty()) return;
  }
}

void BatchExporter::send_all(std::vector<Chunk>& chunks, bool stopping,
                             std::chrono::steady_clock::time_point stop_by) {
  std::string spans;
  std::size_t count = 0;
  auto flush = [&] {
    if (count == 0) return;
    if (stopping && std::chrono::steady_clock::now() >= stop_by) {
      dropped_failed_.fetch_add(count, std::memory_order_relaxed);
    } else {
      (send(spans, stopping) ? exported_ : dropped_failed_)
          .fetch_add(count, std::memory_order_relaxed);
    }
    spans.clear();
    count = 0;
  };
  for (Chunk& chunk : chunks) {
    queued_.fetch_sub(chunk.spans, std::memory_order_relaxed);
    if (count + chunk.spans > options_.max_batch) flush();
    if (count == 0) {
      spans.swap(chunk.bytes);
    } else {
      join_spans(options_.encoding, spans, chunk.bytes);
    }
    count += chunk.spans;
  }
  flush();
}

bool BatchExporter::send(std::string_view spans, bool stopping) {
  const std::string body =
      encode_request(options_.encoding, options_.resource, options_.scope, spans);
  outbound::Headers headers = options_.headers;
  headers.emplace_back("Content-Type", std::string(content_type(options_.encoding)));
  auto delay = options_.retry_base;
  const int attempts = stopping ? 1 : std::max(1, options_.max_attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    bool retry = true;
    try {
      const outbound::HttpResponse res = client_.post(options_.url, headers, body);
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
