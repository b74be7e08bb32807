#pragma once
// The readiness check for /health/ready: SELECT 1 off the I/O thread. The message shown to
// clients is fixed, so a path or SQLite's own text never reaches the readiness body.
#include <exception>

#include "kit/db/sqlite/database.hpp"
#include "kit/health/registry.hpp"

namespace kit::db::sqlite {

// `db` must outlive the registry that holds the check.
inline kit::health::Check health_check(Database& db) {
  return [&db]() -> boost::asio::awaitable<void> {
    bool ok = true;
    try {
      co_await db.ping();
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok) throw kit::health::CheckFailed("database unavailable");
  };
}

}  // namespace kit::db::sqlite
