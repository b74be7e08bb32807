#pragma once
// The metrics of one application: families updated by the code (counters, gauges, histograms
// with labels) and callbacks read at scrape time (process figures, pool gauges), rendered
// together in the Prometheus text format 0.0.4, sorted by name.
//
// Owned by the application and passed to whatever reports into it (a null Registry* means "no
// metrics"); nothing here is global. Registering is thread-safe and get-or-create: asking for an
// existing family with the same type and label names (and bucket bounds) returns it, so two
// components can share one family, e.g. `rate_limit_rejections_total{policy}`; a clash in shape
// throws std::invalid_argument. The registry must outlive every family reference and
// Registration handed out.
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kit/metrics/family.hpp"

namespace kit::metrics {

// Where a scrape-time callback writes its samples: one per label set, label values in the
// order of the callback's label names.
class Sink {
 public:
  void add(double value, std::initializer_list<std::string_view> label_values = {});

 private:
  friend class Registry;
  explicit Sink(std::size_t label_count) : label_count_(label_count) {}
  std::size_t label_count_;
  std::vector<std::pair<std::vector<std::string>, double>> samples_;
};

using Callback = std::function<void(Sink&)>;

class Registry;

// Keeps a callback registered; destroying it removes the callback (the owner of what the
// callback reads holds it, so a scrape never reads a destroyed object).
class Registration {
 public:
  Registration() = default;
  Registration(Registration&& other) noexcept
      : registry_(std::exchange(other.registry_, nullptr)), name_(std::move(other.name_)) {}
  Registration& operator=(Registration&& other) noexcept;
  ~Registration() { reset(); }
  void reset() noexcept;

 private:
  friend class Registry;
  Registration(Registry* registry, std::string name)
      : registry_(registry), name_(std::move(name)) {}
  Registry* registry_ = nullptr;
  std::string name_;
};

// Bucket bounds for request latencies in seconds: 0.5 ms to 10 s.
std::vector<double> latency_buckets();

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `bounds`: strictly increasing finite upper bounds; +Inf is implied.
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names, std::vector<double> bounds);

  // A family whose samples `fn` produces at each scrape (type counter or gauge). Throws
  // std::invalid_argument when the name is taken. `fn` runs on the scraping thread, under the
  // registry's lock: it must be quick and must not register anything.
  [[nodiscard]] Registration callback(std::string name, std::string help, Type type,
                                      std::vector<std::string> label_names, Callback fn);

  // The whole exposition, families sorted by name.
  std::string render() const;

 private:
  friend class Registration;
  struct CallbackFamily {
    std::string help;
    Type type;
    std::vector<std::string> label_names;
    Callback fn;
  };

  template <class Cell>
  Family<Cell>& get_or_add(std::string name, std::string help, std::vector<std::string> label_names,
                           typename Cell::Config config);
  void check_new_name(const std::string& name, Type type,
                      const std::vector<std::string>& label_names) const;
  void remove_callback(const std::string& name) noexcept;

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
  std::map<std::string, CallbackFamily, std::less<>> callbacks_;
};

}  // namespace kit::metrics
