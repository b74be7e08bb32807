#pragma once
// Collects configuration problems so that validation reports all of them at once.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kit/config/mask.hpp"

namespace kit::config {

// "NAME: problem (got 'value')", or "NAME: problem (not set)" without a value. The value is
// rendered according to `sensitivity`, so secrets never reach the line.
std::string format_problem(std::string_view name, std::string_view problem,
                           std::optional<std::string_view> value, Sensitivity sensitivity);

class Problems {
 public:
  void add(std::string line) { lines_.push_back(std::move(line)); }
  void add(std::string_view name, std::string_view problem, std::optional<std::string_view> value,
           Sensitivity sensitivity = Sensitivity::plain) {
    add(format_problem(name, problem, value, sensitivity));
  }

  bool empty() const noexcept { return lines_.empty(); }
  const std::vector<std::string>& lines() const noexcept { return lines_; }

  // Throws ConfigError with every collected line; does nothing when there are none.
  void throw_if_any() const;

 private:
  std::vector<std::string> lines_;
};

}  // namespace kit::config
