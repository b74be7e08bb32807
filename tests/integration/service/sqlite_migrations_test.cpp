// The SQLite migrations applier: once and only once, each migration in its own transaction,
// edited or unknown migrations refused, concurrent migrators on one file, and --status.
#include <latch>
#include <thread>

#include <gtest/gtest.h>

#include "kit/db/errors.hpp"
#include "kit/db/sqlite/migrations.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/timestamps.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace asio = boost::asio;
namespace sqlite = kit::db::sqlite;
namespace migrations = kit::db::migrations;
using migrations::SourceFile;
using sqlite::Database;
using sqlite_test::run;
using sqlite_test::TempDir;

const std::vector<SourceFile> kV1{{"sqlite/0001_a.sql", "CREATE TABLE a (x INTEGER);"}};
const std::vector<SourceFile> kV1V2{
    {"sqlite/0001_a.sql", "CREATE TABLE a (x INTEGER);"},
    {"sqlite/0002_b.sql", "CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1);"},
    // Other dialects are ignored.
    {"postgres/0001_a.sql", "this is not SQLite"}};

std::vector<int> versions(const std::vector<migrations::Migration>& ms) {
  std::vector<int> out;
  for (const auto& m : ms) out.push_back(m.version);
  return out;
}

class SqliteMigrations : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite::Options options;
    options.path = path_;
    db_ = run<std::unique_ptr<Database>>(io_, [&]() -> asio::awaitable<std::unique_ptr<Database>> {
      co_return co_await Database::open(options);
    });
  }
  std::vector<int> migrate(const std::vector<SourceFile>& files) {
    return versions(run<std::vector<migrations::Migration>>(
        io_, [&]() -> asio::awaitable<std::vector<migrations::Migration>> {
          co_return co_await sqlite::migrate(*db_, files);
        }));
  }
  sqlite::MigrationStatus status(const std::vector<SourceFile>& files) {
    return run<sqlite::MigrationStatus>(io_, [&]() -> asio::awaitable<sqlite::MigrationStatus> {
      co_return co_await sqlite::migration_status(*db_, files);
    });
  }
  std::int64_t count(const std::string& sql) {
    return run<std::int64_t>(io_, [&]() -> asio::awaitable<std::int64_t> {
      co_return (co_await db_->query(sql))[0].int64(0);
    });
  }
  bool table_exists(const std::string& name) {
    return count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + name +
                 "'") > 0;
  }

  TempDir dir_;
  std::string path_ = dir_.file("db/users.db");
  asio::io_context io_;
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteMigrations, TheBuiltInMigrationsApplyOnceAndAgainIsANoOp) {
  EXPECT_EQ(migrate(user_service::embedded_migrations()), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(table_exists("users"));
  EXPECT_EQ(migrate(user_service::embedded_migrations()), std::vector<int>{});
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 5);
}

TEST_F(SqliteMigrations, StatusListsAppliedAndPendingWithoutChangingAnything) {
  auto before = status(kV1V2);
  EXPECT_TRUE(before.applied.empty());
  EXPECT_EQ(versions(before.pending), (std::vector<int>{1, 2}));
  EXPECT_FALSE(before.problem);
  EXPECT_FALSE(table_exists("schema_migrations"));  // status is read-only

  migrate(kV1);
  auto after = status(kV1V2);
  ASSERT_EQ(after.applied.size(), 1u);
  EXPECT_EQ(after.applied[0].version, 1);
  EXPECT_EQ(after.applied[0].name, "a");
  EXPECT_EQ(after.applied[0].checksum, migrations::sha256_hex(kV1[0].content));
  EXPECT_EQ(after.applied[0].applied_at.size(), 24u) << after.applied[0].applied_at;  // ms + Z
  EXPECT_TRUE(after.applied[0].applied_at.ends_with('Z'));
  EXPECT_EQ(versions(after.pending), std::vector<int>{2});
}

TEST_F(SqliteMigrations, AnEditedMigrationIsRefusedWithAClearError) {
  migrate(kV1);
  const std::vector<SourceFile> edited{{"sqlite/0001_a.sql", "CREATE TABLE a (x INTEGER, y TEXT);"},
                                       {"sqlite/0002_b.sql", "CREATE TABLE b (x INTEGER);"}};
  try {
    migrate(edited);
    ADD_FAILURE() << "the edited migration was accepted";
  } catch (const migrations::MigrationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("migration 1_a"), std::string::npos) << message;
    EXPECT_NE(message.find("changed after it was applied"), std::string::npos) << message;
  }
  EXPECT_FALSE(table_exists("b"));  // nothing else was applied either
  const auto s = status(edited);
  ASSERT_TRUE(s.problem.has_value());
  EXPECT_NE(s.problem->find("migration 1_a"), std::string::npos);
}

TEST_F(SqliteMigrations, AVersionThisReleaseDoesNotKnowIsRefused) {
  migrate(kV1V2);
  EXPECT_THROW(migrate(kV1), migrations::MigrationError);
}

TEST_F(SqliteMigrations, AFailingMigrationIsRolledBackAndEarlierOnesStay) {
  const std::vector<SourceFile> broken{
      {"sqlite/0001_a.sql", "CREATE TABLE a (x INTEGER);"},
      {"sqlite/0002_b.sql", "CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1);"}};
  EXPECT_THROW(migrate(broken), kit::db::QueryError);
  EXPECT_TRUE(table_exists("a"));
  EXPECT_FALSE(table_exists("b"));  // its first statement was rolled back with it
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(migrate(kV1V2), std::vector<int>{2});  // the fixed release carries on
}

TEST_F(SqliteMigrations, ConcurrentMigratorsOnOneFileApplyEachMigrationOnce) {
  // Separate Databases (separate connections, like separate processes) start together.
  constexpr int kMigrators = 4;
  std::latch start(kMigrators);
  std::vector<std::vector<int>> applied(kMigrators);
  std::vector<std::string> failures(kMigrators);
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&, i] {
      try {
        asio::io_context io;
        sqlite::Options options;
        options.path = path_;
        run(io, [&]() -> asio::awaitable<void> {
          auto db = co_await Database::open(options);
          start.arrive_and_wait();
          applied[static_cast<std::size_t>(i)] = versions(co_await sqlite::migrate(*db, kV1V2));
          co_await db->close();
        });
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(i)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<int> all;
  for (int i = 0; i < kMigrators; ++i) {
    EXPECT_EQ(failures[static_cast<std::size_t>(i)], "") << "migrator " << i;
    all.insert(all.end(), applied[static_cast<std::size_t>(i)].begin(),
               applied[static_cast<std::size_t>(i)].end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int>{1, 2}));
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM b"), 1);  // 0002's INSERT ran once
}

}  // namespace
