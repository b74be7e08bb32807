#include <cstdio>

#include "service/cli/commands.hpp"
#include "service/settings_reference.hpp"

namespace user_service::cli {

// Prints the settings table of docs/configuration.md (Markdown); reads no settings.
int config_reference() {
  const auto table = settings_reference_markdown();
  std::fwrite(table.data(), 1, table.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace user_service::cli
