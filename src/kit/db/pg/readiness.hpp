#pragma once
// The database check for /health/ready (docs/http-api.md "GET /health/ready"): Pool::ping() within
// its ping_timeout, with any failure reported as a fixed message, so no host, user or connection
// string can reach the readiness body.
#include "kit/db/pg/pool.hpp"
#include "kit/health/registry.hpp"

namespace kit::db::pg {

boost::asio::awaitable<void> readiness_probe(Pool& pool);

// Register with `registry.add("database", readiness_check(pool))`; `pool` must outlive it.
inline kit::health::Check readiness_check(Pool& pool) {
  // Not a coroutine lambda: the probe's frame holds the Pool reference, not this closure.
  return [&pool] { return readiness_probe(pool); };
}

}  // namespace kit::db::pg
