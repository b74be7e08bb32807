#pragma once
// The database pool families (docs/http-api.md "GET /metrics"), shared by the PostgreSQL pool and
// the SQLite executor so both report under the same names:
//   db_pool_connections{state="idle"|"in_use"|"connecting"}  gauge, read at scrape time
//   db_pool_connections_max                                  gauge, the most it may open
//   db_pool_waiting                                          gauge, callers waiting right now
//   db_pool_wait_seconds                                     histogram of each wait
// The connections HELP text says what the numbers mean for the backend that registered them.
#include <functional>
#include <string>
#include <vector>

#include "kit/metrics/registry.hpp"

namespace kit::metrics {

struct DbPoolReading {
  double idle = 0;
  double in_use = 0;
  double connecting = 0;
  double waiting = 0;
  double max = 0;
};

// db_pool_wait_seconds (shared by every pool of the registry): observe each wait in seconds.
Histogram& db_pool_wait_histogram(Registry& registry);

// db_pool_connections{state}, db_pool_connections_max and db_pool_waiting, from `read` at
// scrape time (on the scraping thread: it must be thread-safe and quick). `help` says what a
// connection and its states are for this backend.
[[nodiscard]] std::vector<Registration> register_db_pool_gauges(
    Registry& registry, std::string help, std::function<DbPoolReading()> read);

}  // namespace kit::metrics
