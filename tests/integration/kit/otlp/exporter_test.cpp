// kit::otlp::BatchExporter against a real receiver (tests/support/http_receiver.py): batches
// arrive as OTLP/protobuf or JSON, spans ended on many threads arrive once each, refused
// batches are tried again and then counted, a full queue drops and counts, and a collector
// that is down never makes add() wait.
#include "kit/otlp/exporter.hpp"

#include <rapidjson/document.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/script_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace kit::otlp;
using namespace kit::trace;
using namespace std::chrono_literals;

SpanData span(int n) {
  SpanData s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  char id[17];
  std::snprintf(id, sizeof id, "%016x", n + 1);
  s.span_id = id;
  s.name = "span " + std::to_string(n);
  s.kind = SpanKind::server;
  s.start_unix_nano = 1'765'000'000'000'000'000ULL;
  s.end_unix_nano = s.start_unix_nano + 1000;
  return s;
}

class Exporter : public testing::Test {
 protected:
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  // The requests the receiver logged (one JSON object per line).
  std::vector<rapidjson::Document> requests() const {
    std::vector<rapidjson::Document> out;
    std::istringstream lines(test_support::read_text_file(log_));
    for (std::string line; std::getline(lines, line);) {
      rapidjson::Document d;
      d.Parse(line.c_str(), line.size());
      if (!d.HasParseError()) out.push_back(std::move(d));
    }
    return out;
  }
  // Waits (bounded) until the receiver logged `n` requests.
  std::size_t wait_for_requests(std::size_t n) const {
    for (int i = 0; i < 400; ++i) {
      if (requests().size() >= n) break;
      std::this_thread::sleep_for(25ms);
    }
    return requests().size();
  }

  sqlite_test::TempDir dir_;
  std::string log_ = dir_.path().string() + "/requests.jsonl";
  test_support::ScriptServer server_{"http_receiver.py", {log_}};
};

TEST_F(Exporter, SendsQueuedSpansAsOneOtlpProtobufBatchByDefault) {
  BatchExporter exporter(ExporterOptions{.url = url("/accept"),
                                         .resource = {{"service.name", std::string("users")}},
                                         .scope = {"user-service", "0.1.0"}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(exporter.add(span(i)));
  exporter.stop(5s);
  const auto seen = requests();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_STREQ(seen[0]["headers"]["content-type"].GetString(), "application/x-protobuf");
  EXPECT_EQ(exporter.stats().exported, 3U);
  // The body's decoding by the official definitions: tests/e2e/tracing_test.cpp.
}

TEST_F(Exporter, SendsQueuedSpansAsOneOtlpJsonBatch) {
  BatchExporter exporter(ExporterOptions{.url = url("/accept"),
                                         .headers = {{"Authorization", "Bearer collector-key"}},
                                         .encoding = Encoding::json,
                                         .resource = {{"service.name", std::string("users")}},
                                         .scope = {"user-service", "0.1.0"}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(exporter.add(span(i)));
  exporter.stop(5s);
  const auto seen = requests();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_STREQ(seen[0]["headers"]["content-type"].GetString(), "application/json");
  EXPECT_STREQ(seen[0]["headers"]["authorization"].GetString(), "Bearer collector-key");
  rapidjson::Document body;
  body.Parse(seen[0]["body"].GetString());
  ASSERT_FALSE(body.HasParseError());
  const auto& spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.Size(), 3U);
  EXPECT_STREQ(spans[2]["name"].GetString(), "span 2");
  EXPECT_EQ(exporter.stats().exported, 3U);
  EXPECT_EQ(exporter.stats().dropped_failed, 0U);
}

TEST_F(Exporter, AFullBatchIsSentWithoutWaitingForTheDelay) {
  BatchExporter exporter(
      ExporterOptions{.url = url("/accept"), .max_batch = 2, .schedule_delay = 60s});
  exporter.add(span(0));
  exporter.add(span(1));
  EXPECT_EQ(wait_for_requests(1), 1U);
  exporter.stop(5s);
  EXPECT_EQ(exporter.stats().exported, 2U);
}

TEST_F(Exporter, SpansEndedOnManyThreadsArriveOnceEachInBatchesOfAtMostMaxBatch) {
  // Each thread encodes into a shard of its own; full chunks go at once, the rest at stop.
  // JSON, so that the joins between chunks are checked by a parser.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  BatchExporter exporter(ExporterOptions{
      .url = url("/accept"), .encoding = Encoding::json, .max_batch = 64, .schedule_delay = 60s});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&exporter, t] {
      for (int i = 0; i < kPerThread; ++i) EXPECT_TRUE(exporter.add(span(t * kPerThread + i)));
    });
  }
  for (auto& thread : threads) thread.join();
  exporter.stop(10s);
  std::vector<int> seen(kThreads * kPerThread, 0);
  for (const auto& request : requests()) {
    rapidjson::Document body;
    body.Parse(request["body"].GetString());
    ASSERT_FALSE(body.HasParseError()) << request["body"].GetString();
    const auto& spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"];
    EXPECT_LE(spans.Size(), 64U);
    for (const auto& s : spans.GetArray()) {
      const int n = std::stoi(std::string(s["name"].GetString()).substr(5));
      ASSERT_GE(n, 0);
      ASSERT_LT(n, kThreads * kPerThread);
      ++seen[static_cast<std::size_t>(n)];
    }
  }
  for (std::size_t n = 0; n < seen.size(); ++n) EXPECT_EQ(seen[n], 1) << "span " << n;
  EXPECT_EQ(exporter.stats().exported, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(exporter.stats().dropped_full, 0U);
}

TEST_F(Exporter, ARefusingCollectorIsTriedAgainThenTheBatchIsCounted) {
  BatchExporter exporter(ExporterOptions{.url = url("/status/503"),
                                         .max_batch = 1,
                                         .schedule_delay = 60s,
                                         .max_attempts = 3,
                                         .retry_base = 10ms});
  exporter.add(span(0));
  EXPECT_EQ(wait_for_requests(3), 3U);
  exporter.stop(5s);
  EXPECT_EQ(exporter.stats().exported, 0U);
  EXPECT_EQ(exporter.stats().dropped_failed, 1U);
  // A 400 is not tried again.
  BatchExporter refused(
      ExporterOptions{.url = url("/status/400"), .max_batch = 1, .retry_base = 10ms});
  refused.add(span(1));
  EXPECT_EQ(wait_for_requests(4), 4U);
  refused.stop(5s);
  EXPECT_EQ(refused.stats().dropped_failed, 1U);
  EXPECT_EQ(requests().size(), 4U);
}

TEST_F(Exporter, AFullQueueDropsAndCountsAndADownCollectorCostsAddNothing) {
  // Nothing listens on port 1: every attempt fails at once.
  BatchExporter exporter(ExporterOptions{.url = "http://127.0.0.1:1/v1/traces",
                                         .max_queue = 2,
                                         .schedule_delay = 60s,
                                         .retry_base = 10ms});
  EXPECT_TRUE(exporter.add(span(0)));
  EXPECT_TRUE(exporter.add(span(1)));
  for (int i = 2; i < 10; ++i) EXPECT_FALSE(exporter.add(span(i)));
  exporter.stop(5s);
  EXPECT_EQ(exporter.stats().dropped_full, 8U);
  EXPECT_EQ(exporter.stats().dropped_failed, 2U);
  EXPECT_EQ(exporter.stats().exported, 0U);
  EXPECT_FALSE(exporter.add(span(11)));  // stopped
}

}  // namespace
