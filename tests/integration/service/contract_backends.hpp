#pragma once
// The backends a repository contract suite runs on: fresh, migrated databases of both kinds,
// and the test parameter that names one.
#include <utility>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include "kit/db/migrations/migration.hpp"
#include "kit/db/pg/migrate.hpp"
#include "kit/db/pg/pool.hpp"
#include "kit/db/sqlite/database.hpp"
#include "kit/db/sqlite/migrations.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace user_service::repositories::test_databases {

// One backend of a suite: `open` makes its Handle (the database and the repositories on it).
template <class Handle>
struct Backend {
  std::string name;  // becomes part of the test name
  std::function<boost::asio::awaitable<std::unique_ptr<Handle>>()> open;

  // gtest prints a test's parameter when it fails.
  friend void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }
};

template <class Handle>
std::string backend_name(const ::testing::TestParamInfo<Backend<Handle>>& info) {
  return info.param.name;
}

// The SQLite file `name` in `dir`, or an in-memory database when `dir` is null; migrated.
inline boost::asio::awaitable<std::unique_ptr<kit::db::sqlite::Database>> open_sqlite(
    const sqlite_test::TempDir* dir, const std::string& name) {
  kit::db::sqlite::Options options;
  options.path = dir == nullptr ? ":memory:" : dir->file(name);
  auto db = co_await kit::db::sqlite::Database::open(std::move(options));
  co_await kit::db::sqlite::migrate(*db, embedded_migrations());
  co_return db;
}

// A pool of 4 (+4) connections to `db` on the caller's executor, migrated. Every statement runs
// on a connection of its own (no pipelining), so concurrent calls are concurrent transactions.
inline boost::asio::awaitable<std::unique_ptr<kit::db::pg::Pool>> open_pool(
    const pg_test::TempDatabase& db) {
  kit::db::pg::PoolOptions options;
  options.conninfo = db.url();
  options.size = 4;
  options.max_overflow = 4;
  options.pipelining = false;
  auto executor = co_await boost::asio::this_coro::executor;
  auto pool = std::make_unique<kit::db::pg::Pool>(executor, std::move(options));
  co_await pool->start();
  co_await kit::db::pg::migrate(*pool,
                                kit::db::migrations::load(embedded_migrations(), "postgres"));
  co_return pool;
}

}  // namespace user_service::repositories::test_databases
