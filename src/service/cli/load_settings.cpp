#include "service/cli/load_settings.hpp"

#include <cstdio>

#include "kit/config/error.hpp"
#include "kit/config/source.hpp"

namespace user_service::cli {

std::optional<Settings> load_settings_or_report() {
  try {
    return load_settings(kit::config::Source::from_environment());
  } catch (const kit::config::ConfigError& e) {
    std::fprintf(stderr, "configuration error (%zu problem%s):\n", e.problems().size(),
                 e.problems().size() == 1 ? "" : "s");
    for (const auto& problem : e.problems()) std::fprintf(stderr, "%s\n", problem.c_str());
    return std::nullopt;
  }
}

}  // namespace user_service::cli
