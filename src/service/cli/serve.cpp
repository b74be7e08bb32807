#include <exception>

#include "kit/log/log.hpp"
#include "service/app.hpp"
#include "service/cli/commands.hpp"
#include "service/cli/load_settings.hpp"

namespace user_service::cli {

int serve() {
  auto settings = load_settings_or_report();
  if (!settings) return kExitConfig;
  kit::log::init({.level = settings->log_level, .format = settings->log_format, .async = true});
  int code = kExitOk;
  try {
    App app(std::move(*settings));
    app.serve();
  } catch (const std::exception& e) {
    kit::log::error("app", "startup_failed", {{"message", e.what()}});
    code = kExitFailure;
  }
  kit::log::shutdown();
  return code;
}

}  // namespace user_service::cli
