#include "kit/metrics/family.hpp"

#include <algorithm>

#include "kit/log/log.hpp"

namespace kit::metrics {

namespace {

constexpr std::size_t kInitialSlots = 8;

}  // namespace

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names,
                       std::size_t max_label_sets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      max_label_sets_(max_label_sets) {
  tables_.push_back(std::make_unique<Table>(kInitialSlots));
  table_.store(tables_.back().get(), std::memory_order_release);
}

FamilyBase::Table::Table(std::size_t capacity)
    : mask(capacity - 1), slots(std::make_unique<std::atomic<const Entry*>[]>(capacity)) {}

std::size_t FamilyBase::hash_of(std::span<const std::string_view> values) noexcept {
  // FNV-1a over the values with a separator byte, so ("ab","c") and ("a","bc") differ.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto v : values) {
    for (const char c : v) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
    h ^= 0xffU;
    h *= 0x100000001b3ULL;
  }
  return static_cast<std::size_t>(h);
}

const FamilyBase::Entry* FamilyBase::probe(const Table& table, std::size_t hash,
                                           std::span<const std::string_view> values) noexcept {
  // The table is never more than half full, so the probe always reaches an empty slot.
  for (std::size_t i = hash & table.mask;; i = (i + 1) & table.mask) {
    const Entry* e = table.slots[i].load(std::memory_order_acquire);
    if (e == nullptr) return nullptr;
    if (e->hash == hash &&
        std::equal(e->values.begin(), e->values.end(), values.begin(), values.end())) {
      return e;
    }
  }
}

void FamilyBase::place(const Table& table, const Entry* entry) noexcept {
  std::size_t i = entry->hash & table.mask;
  while (table.slots[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & table.mask;
  table.slots[i].store(entry, std::memory_order_release);
}

void* FamilyBase::find_or_add(std::span<const std::string_view> values,
                              void* (*make)(FamilyBase&)) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": expected " +
                                std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(values.size()));
  }
  const std::size_t hash = hash_of(values);
  if (const Entry* e = probe(*table_.load(std::memory_order_acquire), hash, values)) {
    return e->cell;
  }

  const std::lock_guard lock(mutex_);
  const Table* table = tables_.back().get();
  if (const Entry* e = probe(*table, hash, values)) return e->cell;  // added meanwhile
  if (entries_.size() >= max_label_sets_) {
    if (!overflow_warned_) {
      overflow_warned_ = true;
      kit::log::warning("metrics", "metric_label_sets_exhausted",
                        {{"metric", name_}, {"max_label_sets", max_label_sets_}});
    }
    return overflow_cell_;
  }
  auto entry = std::make_unique<Entry>(
      Entry{hash, std::vector<std::string>(values.begin(), values.end()), make(*this)});
  if ((entries_.size() + 1) * 2 > table->mask + 1) {
    // Fill the larger table completely, then publish it: readers see either table whole.
    auto larger = std::make_unique<Table>((table->mask + 1) * 2);
    for (const auto& e : entries_) place(*larger, e.get());
    place(*larger, entry.get());
    table = larger.get();
    tables_.push_back(std::move(larger));
    table_.store(table, std::memory_order_release);
  } else {
    place(*table, entry.get());
  }
  entries_.push_back(std::move(entry));
  return entries_.back()->cell;
}

std::vector<const FamilyBase::Entry*> FamilyBase::sorted_entries() const {
  std::vector<const Entry*> out;
  {
    const std::lock_guard lock(mutex_);
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(e.get());
  }
  std::sort(out.begin(), out.end(),
            [](const Entry* a, const Entry* b) { return a->values < b->values; });
  return out;
}

template <>
void Family<Counter>::render(TextWriter& out) const {
  out.family(name(), help(), Type::counter);
  for (const Entry* e : sorted_entries()) {
    out.sample(name(), "", label_names(), e->values, static_cast<const Counter*>(e->cell)->value());
  }
}

template <>
void Family<Gauge>::render(TextWriter& out) const {
  out.family(name(), help(), Type::gauge);
  for (const Entry* e : sorted_entries()) {
    out.sample(name(), "", label_names(), e->values, static_cast<const Gauge*>(e->cell)->value());
  }
}

template <>
void Family<Histogram>::render(TextWriter& out) const {
  out.family(name(), help(), Type::histogram);
  std::vector<std::string> le;
  for (const double bound : config_.bounds) {
    append_value(le.emplace_back(), bound);
  }
  for (const Entry* e : sorted_entries()) {
    const auto& h = *static_cast<const Histogram*>(e->cell);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < le.size(); ++i) {
      cumulative += h.bucket_count(i);
      out.sample(name(), "_bucket", label_names(), e->values, cumulative, {"le", le[i]});
    }
    cumulative += h.bucket_count(le.size());
    out.sample(name(), "_bucket", label_names(), e->values, cumulative, {"le", "+Inf"});
    out.sample(name(), "_sum", label_names(), e->values, h.sum());
    out.sample(name(), "_count", label_names(), e->values, cumulative);
  }
}

}  // namespace kit::metrics
