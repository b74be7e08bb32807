// The hot path under contention: N threads updating the same and different label sets (new ones
// created concurrently, so the lock-free table grows under readers) give exact totals, and a
// scrape running meanwhile always renders a valid exposition.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "kit/metrics/registry.hpp"
#include "tests/support/exposition_parser.hpp"

namespace {

namespace m = kit::metrics;

constexpr int kThreads = 8;
constexpr int kPerThread = 20000;

TEST(MetricsConcurrency, ThreadsIncrementingGiveTheExactTotal) {
  m::Registry r;
  auto& family = r.counter("hits_total", "Hits.", {"route", "status"});
  auto& gauge = r.gauge("in_flight", "Now.").labels();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        gauge.inc();
        family.labels("/shared", "200").inc();
        gauge.dec();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(family.labels("/shared", "200").value(),
            static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(gauge.value(), 0);
}

TEST(MetricsConcurrency, LabelSetsCreatedConcurrentlyAreCountedOnce) {
  m::Registry r;
  auto& family = r.counter("keys_total", "Keys.", {"key"});
  constexpr int kKeys = 300;  // forces several table growths while others read
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread / 10; ++i) {
        // Each thread walks the keys in its own order, so creations interleave.
        family.labels(std::to_string((i * 7 + t * 31) % kKeys)).inc();
      }
    });
  }
  for (auto& th : threads) th.join();
  std::uint64_t total = 0;
  const auto parsed = metrics_test::parse_exposition(r.render());
  EXPECT_EQ(parsed.family("keys_total").samples.size(), static_cast<std::size_t>(kKeys));
  for (const auto& s : parsed.family("keys_total").samples) {
    total += static_cast<std::uint64_t>(s.value);
  }
  EXPECT_EQ(total, static_cast<std::uint64_t>(kThreads) * (kPerThread / 10));
}

TEST(MetricsConcurrency, HistogramCountsAreExactAndScrapesStayValid) {
  m::Registry r;
  auto& family = r.histogram("work_seconds", "Work.", {"kind"}, {0.25, 0.5, 0.75});
  std::atomic<bool> done{false};
  std::atomic<int> scrapes{0};
  std::thread scraper([&] {
    // _count == +Inf and monotonic buckets must hold in every scrape taken mid-update.
    while (!done.load()) {
      metrics_test::parse_exposition(r.render());
      scrapes.fetch_add(1);
    }
  });
  // On a loaded machine the writers could finish before the scraper ever ran (scrapes == 0):
  // they start once it has scraped at least once, and its later scrapes overlap their updates.
  while (scrapes.load() == 0) std::this_thread::yield();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& h = family.labels(t % 2 == 0 ? "even" : "odd");
      for (int i = 0; i < kPerThread; ++i) h.observe((i % 4) * 0.25);  // 0, .25, .5, .75
    });
  }
  for (auto& th : threads) th.join();
  done.store(true);
  scraper.join();
  EXPECT_GT(scrapes.load(), 0);
  const auto parsed = metrics_test::parse_exposition(r.render());
  const double per_kind = kThreads / 2.0 * kPerThread;
  for (const char* kind : {"even", "odd"}) {
    EXPECT_EQ(parsed.value("work_seconds", "work_seconds_count", {{"kind", kind}}), per_kind);
    EXPECT_EQ(parsed.value("work_seconds", "work_seconds_bucket", {{"kind", kind}, {"le", "0.25"}}),
              per_kind / 2);
    EXPECT_EQ(parsed.value("work_seconds", "work_seconds_sum", {{"kind", kind}}),
              per_kind / 4 * (0.25 + 0.5 + 0.75));
  }
}

}  // namespace
