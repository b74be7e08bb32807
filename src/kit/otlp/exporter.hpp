#pragma once
// The batch span exporter (OTLP/HTTP, protobuf or JSON): finished spans go into a bounded
// queue, and one thread of its own sends them in batches, so no request ever waits for the
// collector. A full queue drops the span and counts it; a batch the collector refuses with
// 429, 502, 503 or 504, or does not answer, is tried again with backoff (a bounded number of
// times), then dropped and counted. Stopping sends what is queued, within a time limit.
//
// The queue holds spans already encoded (docs/tracing.md "What it costs"): add() encodes the
// span in the thread that ended it, into a chunk of the shard that thread uses, so a span's
// strings are freed where they were allocated, threads do not contend for one lock, and the
// exporter thread only joins chunks into requests. A chunk that reaches max_batch spans is
// handed to the exporter at once; the others are collected every schedule_delay.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kit/otlp/encoding.hpp"
#include "kit/otlp/otlp_json.hpp"
#include "kit/outbound/http_post.hpp"
#include "kit/trace/sink.hpp"
#include "kit/trace/span.hpp"

namespace kit::otlp {

struct ExporterOptions {
  std::string url = {};            // the traces endpoint, e.g. http://collector:4318/v1/traces
  outbound::Headers headers = {};  // OTEL_EXPORTER_OTLP_HEADERS (credentials: never logged)
  Encoding encoding = Encoding::protobuf;  // OTEL_EXPORTER_OTLP_PROTOCOL
  std::vector<Attribute> resource = {};
  Scope scope = {};
  std::size_t max_queue = 2048;                    // the SDK's OTEL_BSP_MAX_QUEUE_SIZE default
  std::size_t max_batch = 512;                     // OTEL_BSP_MAX_EXPORT_BATCH_SIZE
  std::chrono::milliseconds schedule_delay{5000};  // OTEL_BSP_SCHEDULE_DELAY
  int max_attempts = 3;                            // per batch
  std::chrono::milliseconds retry_base{500};       // doubles per attempt
  outbound::HttpOptions http = {};                 // connect 2 s, total 10 s
};

struct ExporterStats {
  std::uint64_t exported = 0;        // spans the collector accepted
  std::uint64_t dropped_full = 0;    // spans refused because the queue was full
  std::uint64_t dropped_failed = 0;  // spans of batches given up on
};

class BatchExporter final : public trace::SpanSink {
 public:
  explicit BatchExporter(ExporterOptions options);
  BatchExporter(const BatchExporter&) = delete;
  BatchExporter& operator=(const BatchExporter&) = delete;
  ~BatchExporter() override;  // stop() with a 5 s limit, unless called before

  // Queues a finished span; never waits for the collector. Returns false when it was dropped
  // (the queue is full, or the exporter is stopping).
  bool add(SpanData span) noexcept override;
  // Sends what is queued (one attempt per batch) for at most `limit`, then ends the thread.
  void stop(std::chrono::milliseconds limit);

  ExporterStats stats() const noexcept;

 private:
  // Encoded spans that concatenate into one request's span list.
  struct Chunk {
    std::string bytes = {};
    std::size_t spans = 0;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    Chunk open;
  };
  static constexpr std::size_t kShards = 8;

  void run();
  // Every shard's open chunk, for a scheduled or final export.
  void collect_open(std::vector<Chunk>& into);
  // Sends `chunks` in requests of at most max_batch spans.
  void send_all(std::vector<Chunk>& chunks, bool stopping,
                std::chrono::steady_clock::time_point stop_by);
  // One request: true when the collector accepted it.
  bool send(std::string_view spans, bool stopping);

  ExporterOptions options_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> queued_{0};  // spans in chunks not yet taken: at most max_queue
  std::atomic<bool> closed_{false};     // set by stop(): add() refuses from then on
  std::mutex mutex_;                    // guards what follows, up to the counters
  std::condition_variable wake_;
  std::vector<Chunk> ready_;  // full chunks, waiting for the exporter thread
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_by_{};
  std::atomic<std::uint64_t> exported_{0};
  std::atomic<std::uint64_t> dropped_full_{0};
  std::atomic<std::uint64_t> dropped_failed_{0};
  outbound::HttpClient client_;  // the exporter thread's: one connection to the collector
  std::thread thread_;           // last: starts once everything above exists
};

}  // namespace kit::otlp
