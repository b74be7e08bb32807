#pragma once
// A metric family: one name, one help text, fixed label names, and one cell per label set.
//
// The hot path is labels(values...): it hashes the values (string_views, so the caller
// allocates nothing) and probes an open-addressing table of published cells WITHOUT a lock.
// Only the first use of a label set takes the family's mutex to create its cell. The table is
// replaced by a twice-as-large copy when half full; old tables stay alive until the family
// dies, so a reader still probing one never touches freed memory. Cells are never removed.
//
// The number of label sets is bounded (max_label_sets): beyond it, updates go to one hidden
// overflow cell that is not rendered, and a warning is logged once — a label fed with
// unbounded input must not exhaust memory. Callers should pass bounded values (route
// templates, never raw paths).
#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kit/metrics/cells.hpp"
#include "kit/metrics/text_format.hpp"

namespace kit::metrics {

inline constexpr std::size_t kDefaultMaxLabelSets = 4096;

// What the registry needs from a family of any type.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names,
             std::size_t max_label_sets);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  virtual Type type() const noexcept = 0;
  virtual void render(TextWriter& out) const = 0;

 protected:
  struct Entry {
    std::size_t hash;
    std::vector<std::string> values;
    void* cell;  // the typed cell, owned by the derived family
  };

  // The cell for `values` (creating it with make() on first use); thread-safe, lock-free when
  // the label set exists. Throws std::invalid_argument when the count of values is wrong.
  void* find_or_add(std::span<const std::string_view> values, void* (*make)(FamilyBase&));
  // Entries sorted by label values, for a deterministic exposition.
  std::vector<const Entry*> sorted_entries() const;

  void* overflow_cell_ = nullptr;  // set by the derived family

 private:
  struct Table {
    explicit Table(std::size_t capacity);
    std::size_t mask;
    std::unique_ptr<std::atomic<const Entry*>[]> slots;
  };
  static std::size_t hash_of(std::span<const std::string_view> values) noexcept;
  static const Entry* probe(const Table& table, std::size_t hash,
                            std::span<const std::string_view> values) noexcept;
  static void place(const Table& table, const Entry* entry) noexcept;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::size_t max_label_sets_;

  std::atomic<const Table*> table_;
  mutable std::mutex mutex_;  // guards everything below; never taken for an existing label set
  std::vector<std::unique_ptr<Table>> tables_;  // the current one last, older ones kept alive
  std::vector<std::unique_ptr<Entry>> entries_;
  bool overflow_warned_ = false;
};

template <class Cell>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         typename Cell::Config config, std::size_t max_label_sets = kDefaultMaxLabelSets)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names), max_label_sets),
        config_(std::move(config)),
        overflow_(config_) {
    overflow_cell_ = &overflow_;
  }

  // The cell for these label values, in label-name order: labels("GET", "/users", "200").
  template <class... Values>
  Cell& labels(const Values&... values) {
    const std::array<std::string_view, sizeof...(Values)> v{std::string_view(values)...};
    return labels(std::span<const std::string_view>(v));
  }
  Cell& labels(std::span<const std::string_view> values) {
    return *static_cast<Cell*>(find_or_add(values, &Family::make));
  }

  Type type() const noexcept override;
  const typename Cell::Config& config() const noexcept { return config_; }
  void render(TextWriter& out) const override;

 private:
  // Runs under the base's mutex.
  static void* make(FamilyBase& base) {
    auto& self = static_cast<Family&>(base);
    self.cells_.push_back(std::make_unique<Cell>(self.config_));
    return self.cells_.back().get();
  }

  typename Cell::Config config_;
  Cell overflow_;
  std::vector<std::unique_ptr<Cell>> cells_;  // guarded by the base's mutex
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

template <>
inline Type Family<Counter>::type() const noexcept {
  return Type::counter;
}
template <>
inline Type Family<Gauge>::type() const noexcept {
  return Type::gauge;
}
template <>
inline Type Family<Histogram>::type() const noexcept {
  return Type::histogram;
}

template <>
void Family<Counter>::render(TextWriter& out) const;
template <>
void Family<Gauge>::render(TextWriter& out) const;
template <>
void Family<Histogram>::render(TextWriter& out) const;

}  // namespace kit::metrics
