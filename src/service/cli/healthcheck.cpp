#include <cstdio>
#include <exception>

#include "kit/config/source.hpp"
#include "kit/http/client.hpp"
#include "service/cli/commands.hpp"

namespace user_service::cli {

// For container HEALTHCHECK in images without curl: GET /health/live, exit 0 on 200.
// Only PORT is read (not the full settings) so a probe never fails on an unrelated setting.
int healthcheck(const std::string& url) {
  std::string target = url;
  if (target.empty()) {
    std::string port = "8000";
    try {
      if (auto p = kit::config::Source::from_environment().get("PORT"); p && !p->empty()) port = *p;
    } catch (const std::exception&) {
      // A malformed .env does not stop the probe; the default port is tried.
    }
    target = "http://127.0.0.1:" + port + "/health/live";
  }
  try {
    const auto res = kit::http::http_get(target, std::chrono::seconds(3));
    if (res.status == 200) return kExitOk;
    std::fprintf(stderr, "healthcheck: %s answered %u\n", target.c_str(), res.status);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "healthcheck: %s: %s\n", target.c_str(), e.what());
  }
  return kExitFailure;
}

}  // namespace user_service::cli
