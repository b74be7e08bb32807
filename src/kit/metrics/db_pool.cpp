#include "kit/metrics/db_pool.hpp"

#include <memory>

namespace kit::metrics {

namespace {

std::vector<double> wait_buckets() {
  // Most acquisitions find an idle connection (microseconds); the pool timeout is seconds.
  return {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

Histogram& db_pool_wait_histogram(Registry& registry) {
  return registry
      .histogram("db_pool_wait_seconds",
                 "Time each database call waited for a connection (PostgreSQL: to lease one "
                 "from the pool, timeouts included; SQLite: for the worker thread that owns one).",
                 {}, wait_buckets())
      .labels();
}

std::vector<Registration> register_db_pool_gauges(Registry& registry, std::string help,
                                                  std::function<DbPoolReading()> read) {
  auto shared = std::make_shared<std::function<DbPoolReading()>>(std::move(read));
  std::vector<Registration> out;
  out.push_back(registry.callback("db_pool_connections", std::move(help), Type::gauge, {"state"},
                                  [shared](Sink& s) {
                                    const DbPoolReading r = (*shared)();
                                    s.add(r.idle, {"idle"});
                                    s.add(r.in_use, {"in_use"});
                                    s.add(r.connecting, {"connecting"});
                                  }));
  out.push_back(registry.callback("db_pool_connections_max",
                                  "The most connections the database pool may hold open.",
                                  Type::gauge, {}, [shared](Sink& s) { s.add((*shared)().max); }));
  out.push_back(
      registry.callback("db_pool_waiting", "Callers waiting for a database connection right now.",
                        Type::gauge, {}, [shared](Sink& s) { s.add((*shared)().waiting); }));
  return out;
}

}  // namespace kit::metrics
