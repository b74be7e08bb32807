#pragma once
#include <optional>

#include "service/settings.hpp"

namespace user_service::cli {

// Loads and validates the settings; on failure prints every problem to stderr (one per line)
// and returns nullopt, and the command exits with kExitConfig.
std::optional<Settings> load_settings_or_report();

}  // namespace user_service::cli
