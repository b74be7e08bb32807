#include "kit/db/pg/readiness.hpp"

#include <exception>

namespace kit::db::pg {

boost::asio::awaitable<void> readiness_probe(Pool& pool) {
  bool failed = false;
  try {
    co_await pool.ping();
  } catch (const std::exception&) {
    failed = true;  // the pool has logged the reason (without secrets)
  }
  if (failed) throw kit::health::CheckFailed("database unavailable");
}

}  // namespace kit::db::pg
