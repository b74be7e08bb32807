#include "kit/config/problems.hpp"

#include "kit/config/error.hpp"

namespace kit::config {

std::string format_problem(std::string_view name, std::string_view problem,
                           std::optional<std::string_view> value, Sensitivity sensitivity) {
  std::string line;
  line.append(name).append(": ").append(problem);
  if (value)
    line.append(" (got ").append(render_value(*value, sensitivity)).append(")");
  else
    line.append(" (not set)");
  return line;
}

void Problems::throw_if_any() const {
  if (!lines_.empty()) throw ConfigError(lines_);
}

}  // namespace kit::config
