#include <cstdio>

#include "service/cli/commands.hpp"
#include "service/cli/load_settings.hpp"

namespace user_service::cli {

// Prints the effective settings (secrets masked) and any warnings; exits 0 or 78.
int check_config() {
  auto settings = load_settings_or_report();
  if (!settings) return kExitConfig;
  for (const auto& [name, value] : describe(*settings)) {
    std::printf("%s=%s\n", name.c_str(), value.c_str());
  }
  for (const auto& warning : settings->warnings)
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  std::fprintf(stderr, "configuration OK\n");
  return kExitOk;
}

}  // namespace user_service::cli
