#pragma once
// The one exception a configuration problem raises. It carries every problem found, so the
// operator fixes them all in one go instead of one per restart
// (docs/configuration.md "Validation: every problem at once").
#include <stdexcept>
#include <string>
#include <vector>

namespace kit::config {

class ConfigError : public std::runtime_error {
 public:
  // Each problem is one line, `SETTING: problem (got 'value')` or `file:line: problem`;
  // callers have already masked secrets. what() is the lines joined by '\n'.
  explicit ConfigError(std::vector<std::string> problems);

  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

}  // namespace kit::config
