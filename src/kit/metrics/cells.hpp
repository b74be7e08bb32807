#pragma once
// The value of one metric for one label set. Every update is one or two relaxed atomic
// operations: no lock, no allocation, safe from any thread. Cells live in their family
// (kit/metrics/family.hpp) for as long as the registry does, so a reference to one can be kept.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace kit::metrics {

class Counter {
 public:
  struct Config {};
  explicit Counter(const Config&) {}

  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  struct Config {};
  explicit Gauge(const Config&) {}

  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double d = 1) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  void dec(double d = 1) noexcept { value_.fetch_sub(d, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Per-bucket (not cumulative) counts; the cumulative `le` view and `_count` are computed when
// rendering, from one pass over the buckets, so `_count` always equals the `+Inf` bucket even
// while observations race with a scrape.
class Histogram {
 public:
  struct Config {
    std::vector<double> bounds;  // strictly increasing upper bounds, without +Inf
  };
  explicit Histogram(const Config& config)
      : bounds_(config.bounds),
        counts_(std::make_unique<std::atomic<std::uint64_t>[]>(config.bounds.size() + 1)) {}

  // A NaN lands in the +Inf bucket (and makes the sum NaN), as in the Go client.
  void observe(double v) noexcept {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    const auto bucket = static_cast<std::size_t>(it - bounds_.begin());
    counts_[std::isnan(v) ? bounds_.size() : bucket].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }

  std::span<const double> bounds() const noexcept { return bounds_; }
  // Observations in bucket i alone: bounds[i-1] < v <= bounds[i]; i == bounds().size() is +Inf.
  std::uint64_t bucket_count(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::span<const double> bounds_;  // owned by the family's Config
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

}  // namespace kit::metrics
