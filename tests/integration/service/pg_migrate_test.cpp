// The PostgreSQL migrations applier: idempotence, concurrent starts, edited migrations,
// failed migrations. Every test works in a fresh database.
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>

#include "kit/db/errors.hpp"
#include "kit/db/migrations/migration.hpp"
#include "kit/db/pg/migrate.hpp"
#include "kit/db/pg/pool.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "tests/support/pg_server.hpp"

namespace {

using namespace pg_test;
using kit::db::migrations::Migration;
using kit::db::migrations::MigrationError;
using kit::db::pg::MigrationStatus;
using kit::db::pg::Params;
using kit::db::pg::Pool;
using kit::db::pg::PoolOptions;
using kit::db::pg::Result;

Migration make(int version, std::string name, std::string sql) {
  Migration m;
  m.version = version;
  m.name = std::move(name);
  m.checksum = kit::db::migrations::sha256_hex(sql);
  m.sql = std::move(sql);
  return m;
}

PoolOptions pool_options(const std::string& url) {
  PoolOptions o;
  o.conninfo = url;
  o.application_name = "migrate-test";
  o.size = 1;
  o.max_overflow = 0;
  o.statement_timeout = 200ms;  // migrate() must lift it for the slow migration below
  return o;
}

asio::awaitable<std::string> scalar(kit::db::pg::Connection& conn, std::string sql) {
  Result r = co_await conn.query(sql);
  co_return std::string(r.get(0, 0).value_or("NULL"));
}

TEST(PgMigrate, BuiltInMigrationsApplyOnceThenNothingIsPending) {
  TempDatabase db;
  const auto available = kit::db::migrations::load(user_service::embedded_migrations(), "postgres");
  ASSERT_FALSE(available.empty());
  asio::io_context ctx;
  Pool pool(ctx.get_executor(), pool_options(db.url()));
  auto first = run(ctx, kit::db::pg::migrate(pool, available));
  EXPECT_EQ(first.size(), available.size());
  auto second = run(ctx, kit::db::pg::migrate(pool, available));
  EXPECT_TRUE(second.empty());
  auto status = run(ctx, kit::db::pg::migration_status(pool, available));
  ASSERT_EQ(status.size(), available.size());
  for (const auto& s : status) {
    EXPECT_EQ(s.state, MigrationStatus::State::applied) << s.version;
    EXPECT_TRUE(s.applied_at.has_value());
  }
  run(ctx, [&]() -> asio::awaitable<void> {
    auto conn = co_await connect(db.url());
    EXPECT_EQ(co_await scalar(*conn, "SELECT to_regclass('users') IS NOT NULL"), "t");
    EXPECT_EQ(co_await scalar(*conn, "SELECT count(*) FROM schema_migrations"),
              std::to_string(available.size()));
    // The advisory lock was released.
    EXPECT_EQ(
        co_await scalar(*conn,
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())"),
        "0");
  }());
  // The pooled session got its statement_timeout back after migrating without one.
  run(ctx, pool.with_connection([](kit::db::pg::Connection& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await scalar(c, "SHOW statement_timeout"), "200ms");
  }));
  run(ctx, pool.close());
}

TEST(PgMigrate, StatusBeforeAnythingIsAppliedListsPending) {
  TempDatabase db;
  const std::vector<Migration> available{make(1, "one", "CREATE TABLE one (x int)")};
  asio::io_context ctx;
  Pool pool(ctx.get_executor(), pool_options(db.url()));
  auto status = run(ctx, kit::db::pg::migration_status(pool, available));
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].state, MigrationStatus::State::pending);
  run(ctx, pool.close());
}

TEST(PgMigrate, TwoConcurrentMigratorsBothSucceedAndApplyOnce) {
  TempDatabase db;
  // The first migration is slow, so the second migrator really waits on the advisory lock.
  const std::vector<Migration> available{
      make(1, "slow", "CREATE TABLE slow (x int); SELECT pg_sleep(0.5);"),
      make(2, "next", "CREATE TABLE next (y int);")};
  asio::io_context ctx;
  Pool a(ctx.get_executor(), pool_options(db.url()));
  Pool b(ctx.get_executor(), pool_options(db.url()));
  std::vector<Migration> applied_a, applied_b;
  std::exception_ptr error_a, error_b;
  int done = 0;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        try {
          applied_a = co_await kit::db::pg::migrate(a, available);
        } catch (...) {
          error_a = std::current_exception();
        }
        ++done;
      },
      asio::detached);
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        try {
          applied_b = co_await kit::db::pg::migrate(b, available);
        } catch (...) {
          error_b = std::current_exception();
        }
        ++done;
      },
      asio::detached);
  run(ctx, [&]() -> asio::awaitable<void> {
    while (done < 2) co_await sleep_for(10ms);
  }());
  EXPECT_FALSE(error_a);
  EXPECT_FALSE(error_b);
  EXPECT_EQ(applied_a.size() + applied_b.size(), 2u);
  EXPECT_TRUE(applied_a.empty() || applied_b.empty());
  run(ctx, [&]() -> asio::awaitable<void> {
    auto conn = co_await connect(db.url());
    EXPECT_EQ(co_await scalar(*conn, "SELECT count(*) FROM schema_migrations"), "2");
  }());
  run(ctx, a.close());
  run(ctx, b.close());
}

TEST(PgMigrate, AnEditedAppliedMigrationIsRefused) {
  TempDatabase db;
  std::vector<Migration> available{make(1, "one", "CREATE TABLE one (x int)")};
  asio::io_context ctx;
  Pool pool(ctx.get_executor(), pool_options(db.url()));
  run(ctx, kit::db::pg::migrate(pool, available));
  available[0] = make(1, "one", "CREATE TABLE one (x bigint)");
  EXPECT_THROW(run(ctx, kit::db::pg::migrate(pool, available)), MigrationError);
  auto status = run(ctx, kit::db::pg::migration_status(pool, available));
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].state, MigrationStatus::State::changed);
  // The lock was released: another migrator is not stuck behind it.
  run(ctx, [&]() -> asio::awaitable<void> {
    auto conn = co_await connect(db.url());
    EXPECT_EQ(
        co_await scalar(*conn,
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())"),
        "0");
  }());
  run(ctx, pool.close());
}

TEST(PgMigrate, AFailingMigrationLeavesNoTrace) {
  TempDatabase db;
  const std::vector<Migration> available{
      make(1, "good", "CREATE TABLE good (x int)"),
      make(2, "bad", "CREATE TABLE half (x int); SELECT no_such_function();")};
  asio::io_context ctx;
  Pool pool(ctx.get_executor(), pool_options(db.url()));
  EXPECT_THROW(run(ctx, kit::db::pg::migrate(pool, available)), kit::db::QueryError);
  run(ctx, [&]() -> asio::awaitable<void> {
    auto conn = co_await connect(db.url());
    EXPECT_EQ(co_await scalar(*conn, "SELECT count(*) FROM schema_migrations"), "1");
    EXPECT_EQ(co_await scalar(*conn, "SELECT to_regclass('half') IS NULL"), "t");
    EXPECT_EQ(
        co_await scalar(*conn,
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())"),
        "0");
  }());
  // The pool is still healthy and respects its statement_timeout again.
  run(ctx, [&]() -> asio::awaitable<void> {
    co_await pool.with_connection([](kit::db::pg::Connection& c) -> asio::awaitable<void> {
      EXPECT_EQ(co_await scalar(c, "SHOW statement_timeout"), "200ms");
    });
  }());
  auto status = run(ctx, kit::db::pg::migration_status(pool, available));
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[1].state, MigrationStatus::State::pending);
  run(ctx, pool.close());
}

}  // namespace
