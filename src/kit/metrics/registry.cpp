#include "kit/metrics/registry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kit/log/log.hpp"

namespace kit::metrics {

namespace {

// The sample names a family writes: a histogram's three suffixed series may clash with another
// family's name (a counter called `x_count` next to a histogram `x`).
std::vector<std::string> sample_names(const std::string& name, Type type) {
  if (type != Type::histogram) return {name};
  return {name + "_bucket", name + "_sum", name + "_count"};
}

bool overlaps(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(),
                     [&](const auto& x) { return std::find(b.begin(), b.end(), x) != b.end(); });
}

}  // namespace

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

void Sink::add(double value, std::initializer_list<std::string_view> label_values) {
  if (label_values.size() != label_count_) {
    throw std::invalid_argument("metric callback: wrong number of label values");
  }
  samples_.emplace_back(std::vector<std::string>(label_values.begin(), label_values.end()), value);
}

Registration& Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    name_ = std::move(other.name_);
  }
  return *this;
}

void Registration::reset() noexcept {
  if (registry_ != nullptr) registry_->remove_callback(name_);
  registry_ = nullptr;
}

void Registry::check_new_name(const std::string& name, Type type,
                              const std::vector<std::string>& label_names) const {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  for (const auto& label : label_names) {
    if (!valid_label_name(label) || (type == Type::histogram && label == "le")) {
      throw std::invalid_argument("metric " + name + ": invalid label name: " + label);
    }
  }
  const auto mine = sample_names(name, type);
  for (const auto& [other, family] : families_) {
    if (overlaps(mine, sample_names(other, family->type()))) {
      throw std::invalid_argument("metric " + name + " clashes with " + other);
    }
  }
  for (const auto& [other, cb] : callbacks_) {
    if (overlaps(mine, sample_names(other, cb.type))) {
      throw std::invalid_argument("metric " + name + " clashes with " + other);
    }
  }
}

template <class Cell>
Family<Cell>& Registry::get_or_add(std::string name, std::string help,
                                   std::vector<std::string> label_names,
                                   typename Cell::Config config) {
  const std::lock_guard lock(mutex_);
  if (const auto it = families_.find(name); it != families_.end()) {
    auto* same = dynamic_cast<Family<Cell>*>(it->second.get());
    if (same == nullptr || same->label_names() != label_names) {
      throw std::invalid_argument("metric " + name + " registered twice with different shapes");
    }
    if constexpr (std::is_same_v<Cell, Histogram>) {
      if (same->config().bounds != config.bounds) {
        throw std::invalid_argument("metric " + name + " registered twice with other buckets");
      }
    }
    return *same;
  }
  auto family = std::make_unique<Family<Cell>>(name, std::move(help), std::move(label_names),
                                               std::move(config));
  check_new_name(name, family->type(), family->label_names());
  auto& ref = *family;
  families_.emplace(std::move(name), std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> label_names) {
  return get_or_add<Counter>(std::move(name), std::move(help), std::move(label_names), {});
}

GaugeFamily& Registry::gauge(std::string name, std::string help,
                             std::vector<std::string> label_names) {
  return get_or_add<Gauge>(std::move(name), std::move(help), std::move(label_names), {});
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      throw std::invalid_argument("metric " + name +
                                  ": bucket bounds must be finite and increasing");
    }
  }
  return get_or_add<Histogram>(std::move(name), std::move(help), std::move(label_names),
                               Histogram::Config{std::move(bounds)});
}

Registration Registry::callback(std::string name, std::string help, Type type,
                                std::vector<std::string> label_names, Callback fn) {
  if (type == Type::histogram) {
    throw std::invalid_argument("metric " + name + ": callbacks give counters or gauges");
  }
  const std::lock_guard lock(mutex_);
  check_new_name(name, type, label_names);
  callbacks_.emplace(name,
                     CallbackFamily{std::move(help), type, std::move(label_names), std::move(fn)});
  return Registration(this, std::move(name));
}

void Registry::remove_callback(const std::string& name) noexcept {
  const std::lock_guard lock(mutex_);
  const auto it = callbacks_.find(name);
  if (it != callbacks_.end()) callbacks_.erase(it);
}

std::string Registry::render() const {
  TextWriter out;
  const std::lock_guard lock(mutex_);
  auto family = families_.begin();
  auto cb = callbacks_.begin();
  // Merge the two name-sorted maps (their names never clash).
  while (family != families_.end() || cb != callbacks_.end()) {
    if (cb == callbacks_.end() || (family != families_.end() && family->first < cb->first)) {
      family->second->render(out);
      ++family;
      continue;
    }
    const auto& [name, c] = *cb;
    Sink sink(c.label_names.size());
    try {
      c.fn(sink);
    } catch (const std::exception& e) {
      // A failed reading (say /proc unreadable) leaves that family empty, not the scrape.
      kit::log::warning("metrics", "metric_callback_failed",
                        {{"metric", name}, {"error", e.what()}});
      sink.samples_.clear();
    }
    out.family(name, c.help, c.type);
    for (const auto& [values, value] : sink.samples_) {
      out.sample(name, "", c.label_names, values, value);
    }
    ++cb;
  }
  return std::move(out).str();
}

}  // namespace kit::metrics
