// The SQLite executor against real files: pragmas, folders, typed values and errors, the
// threading rules (nothing runs on the I/O thread), the queue bound, transactions and close.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "kit/db/errors.hpp"
#include "kit/db/sqlite/database.hpp"
#include "kit/db/sqlite/health.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace asio = boost::asio;
namespace sqlite = kit::db::sqlite;
using sqlite::Connection;
using sqlite::Database;
using sqlite::Rows;
using sqlite::Value;
using sqlite_test::run;
using sqlite_test::TempDir;

std::int64_t thread_tag(std::thread::id id) {
  return static_cast<std::int64_t>(std::hash<std::thread::id>{}(id) >> 1);
}

// SQL function thread_tag(): which thread is running the statement.
void register_thread_tag(Connection& c) {
  sqlite3_create_function(
      c.handle(), "thread_tag", 0, SQLITE_UTF8, nullptr,
      [](sqlite3_context* ctx, int, sqlite3_value**) {
        sqlite3_result_int64(ctx, thread_tag(std::this_thread::get_id()));
      },
      nullptr, nullptr);
}

class SqliteDatabase : public ::testing::Test {
 protected:
  std::unique_ptr<Database> open(sqlite::Options options) {
    return run<std::unique_ptr<Database>>(io_, [&]() -> asio::awaitable<std::unique_ptr<Database>> {
      co_return co_await Database::open(options);
    });
  }
  std::unique_ptr<Database> open_file(std::string name = "test.db") {
    sqlite::Options options;
    options.path = dir_.file(name);
    return open(std::move(options));
  }
  std::unique_ptr<Database> open_memory() {
    sqlite::Options options;
    options.path = ":memory:";
    return open(std::move(options));
  }
  Rows query(Database& db, std::string sql) {
    return run<Rows>(io_, [&]() -> asio::awaitable<Rows> { co_return co_await db.query(sql); });
  }
  std::int64_t execute(Database& db, std::string sql, std::vector<Value> params = {}) {
    return run<std::int64_t>(io_, [&]() -> asio::awaitable<std::int64_t> {
      co_return co_await db.execute(sql, params);
    });
  }

  TempDir dir_;
  asio::io_context io_;
};

TEST_F(SqliteDatabase, FileDatabaseUsesWalAndTheConfiguredPragmas) {
  auto db = open_file();
  EXPECT_EQ(db->reader_count(), 2u);
  const auto writer =
      run<std::vector<std::int64_t>>(io_, [&]() -> asio::awaitable<std::vector<std::int64_t>> {
        co_return co_await db->transaction([](Connection& c) {
          EXPECT_EQ(c.query("PRAGMA journal_mode")[0].text(0), "wal");
          return std::vector<std::int64_t>{c.query("PRAGMA synchronous")[0].int64(0),
                                           c.query("PRAGMA foreign_keys")[0].int64(0),
                                           c.query("PRAGMA busy_timeout")[0].int64(0)};
        });
      });
  EXPECT_EQ(writer, (std::vector<std::int64_t>{1 /* NORMAL */, 1, 5000}));
  // Readers see the same file in WAL mode and refuse to write.
  EXPECT_EQ(query(*db, "PRAGMA journal_mode")[0].text(0), "wal");
  EXPECT_EQ(query(*db, "PRAGMA query_only")[0].int64(0), 1);
  EXPECT_TRUE(std::filesystem::exists(dir_.file("test.db-wal")));
}

TEST_F(SqliteDatabase, TheParentFolderOfTheFileIsCreated) {
  auto db = open_file("a/b/c/users.db");
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_.file("a/b/c/users.db")));
}

TEST_F(SqliteDatabase, AnUnopenableFileIsUnavailable) {
  std::ofstream(dir_.file("not-a-folder")) << "x";
  sqlite::Options options;
  options.path = dir_.file("not-a-folder/users.db");
  EXPECT_THROW(open(options), kit::db::UnavailableError);
  options.path = "";
  EXPECT_THROW(open(options), kit::db::UnavailableError);
}

TEST_F(SqliteDatabase, MemoryDatabaseUsesOneConnectionForReadsAndWrites) {
  auto db = open_memory();
  EXPECT_TRUE(db->in_memory());
  EXPECT_EQ(db->reader_count(), 0u);
  execute(*db, "CREATE TABLE t (x INTEGER)");
  EXPECT_EQ(execute(*db, "INSERT INTO t VALUES (1), (2)"), 2);
  // A second connection would be a different, empty database.
  EXPECT_EQ(query(*db, "SELECT count(*) FROM t")[0].int64(0), 2);
}

TEST_F(SqliteDatabase, TypedParametersAndCellsRoundTrip) {
  auto db = open_file();
  execute(*db, "CREATE TABLE t (n ANY, i ANY, d ANY, s ANY) STRICT");
  const std::string text("caf\xC3\xA9 \0 zero", 12);
  execute(*db, "INSERT INTO t VALUES (?, ?, ?, ?)",
          {nullptr, std::numeric_limits<std::int64_t>::min(), 0.25, text});
  const Rows rows = query(*db, "SELECT n, i, d, s FROM t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.columns, (std::vector<std::string>{"n", "i", "d", "s"}));
  EXPECT_TRUE(rows[0].is_null(0));
  EXPECT_EQ(rows[0].int64(1), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(rows[0].real(2), 0.25);
  EXPECT_EQ(rows[0].text(3), text);
  EXPECT_THROW(rows[0].text(1), kit::db::QueryError);  // the code and the SQL disagree
  EXPECT_THROW(rows[0].at(4), kit::db::QueryError);
}

TEST_F(SqliteDatabase, ErrorsAreTyped) {
  auto db = open_file();
  execute(*db, "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT NOT NULL)");
  execute(*db, "CREATE UNIQUE INDEX t_email_key ON t (lower(email))");
  execute(*db, "INSERT INTO t VALUES (1, 'a@x.io')");
  try {
    execute(*db, "INSERT INTO t VALUES (2, 'A@X.IO')");
    ADD_FAILURE() << "no UniqueViolation";
  } catch (const kit::db::UniqueViolation& e) {
    EXPECT_EQ(e.constraint(), "t_email_key");
  }
  try {
    execute(*db, "INSERT INTO t VALUES (1, 'b@x.io')");
    ADD_FAILURE() << "no UniqueViolation";
  } catch (const kit::db::UniqueViolation& e) {
    EXPECT_EQ(e.constraint(), "t.id");
  }
  try {
    execute(*db, "INSERT INTO t VALUES (3, NULL)");
    ADD_FAILURE() << "no QueryError";
  } catch (const kit::db::QueryError& e) {
    EXPECT_EQ(e.sqlstate(), "sqlite:" + std::to_string(SQLITE_CONSTRAINT_NOTNULL));
  }
  EXPECT_THROW(execute(*db, "SELEKT 1"), kit::db::QueryError);
  EXPECT_THROW(execute(*db, "SELECT ?", {}), kit::db::QueryError);  // missing parameter
  // Readers are query_only: a write sent to query() fails instead of racing the writer.
  EXPECT_THROW(query(*db, "INSERT INTO t VALUES (9, 'z@x.io')"), kit::db::QueryError);
}

TEST_F(SqliteDatabase, ALockedDatabaseIsUnavailableAfterTheBusyTimeout) {
  sqlite::Options options;
  options.path = dir_.file("test.db");
  options.busy_timeout = std::chrono::milliseconds{50};
  auto db = open(options);
  execute(*db, "CREATE TABLE t (x INTEGER)");
  {
    // Another process (here: another connection) holds the write lock.
    Connection other(options.path, {});
    other.execute_script("BEGIN IMMEDIATE");
    EXPECT_THROW(execute(*db, "INSERT INTO t VALUES (1)"), kit::db::UnavailableError);
    // WAL: reads go on while the lock is held.
    EXPECT_EQ(query(*db, "SELECT count(*) FROM t")[0].int64(0), 0);
    other.execute_script("ROLLBACK");
  }
  EXPECT_EQ(execute(*db, "INSERT INTO t VALUES (1)"), 1);
}

TEST_F(SqliteDatabase, NothingRunsOnTheCallingIoThread) {
  sqlite::Options options;
  options.path = dir_.file("test.db");
  options.on_connect = register_thread_tag;
  auto db = open(options);
  run(io_, [&]() -> asio::awaitable<void> {
    const auto io_thread = std::this_thread::get_id();
    co_await db->execute("CREATE TABLE t (tag INTEGER)");
    co_await db->execute("INSERT INTO t VALUES (thread_tag())");
    EXPECT_EQ(std::this_thread::get_id(), io_thread);  // resumed on the caller's executor
    co_await db->execute("INSERT INTO t VALUES (thread_tag())");
    const Rows writes = co_await db->query("SELECT tag FROM t");
    EXPECT_EQ(std::this_thread::get_id(), io_thread);
    const Rows read = co_await db->query("SELECT thread_tag()");
    const std::thread::id in_transaction =
        co_await db->transaction([](Connection&) { return std::this_thread::get_id(); });

    EXPECT_NE(writes[0].int64(0), thread_tag(io_thread));
    EXPECT_EQ(writes[0].int64(0), writes[1].int64(0));  // one writer thread
    EXPECT_NE(read[0].int64(0), thread_tag(io_thread));
    EXPECT_NE(in_transaction, io_thread);
    EXPECT_EQ(thread_tag(in_transaction), writes[0].int64(0));
  });
}

TEST_F(SqliteDatabase, AFullQueueIsRefusedWithServiceUnavailable) {
  sqlite::Options options;
  options.path = dir_.file("test.db");
  options.max_queue = 2;
  auto db = open(options);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  int refused = 0;
  int done = 0;
  // Job 1 blocks the single writer thread, job 2 waits in the queue, job 3 finds it full.
  auto blocker = asio::co_spawn(io_, db->transaction([released](Connection&) { released.wait(); }),
                                asio::use_future);
  auto queued = asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await db->execute("SELECT 1");
        ++done;
      },
      asio::use_future);
  auto third = asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        try {
          co_await db->execute("SELECT 1");
        } catch (const kit::errors::ServiceUnavailable& e) {
          EXPECT_EQ(e.status(), 503u);
          ++refused;
        }
        release.set_value();
      },
      asio::use_future);
  io_.restart();  // open() ran the context to completion before
  io_.run();
  blocker.get();
  queued.get();
  third.get();
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(done, 1);
}

TEST_F(SqliteDatabase, ATransactionCommitsOrRollsBackAsAWhole) {
  auto db = open_file();
  execute(*db, "CREATE TABLE t (x INTEGER)");
  EXPECT_THROW(run(io_,
                   [&]() -> asio::awaitable<void> {
                     co_await db->transaction([](Connection& c) {
                       c.execute("INSERT INTO t VALUES (1)");
                       throw std::runtime_error("changed my mind");
                     });
                   }),
               std::runtime_error);
  EXPECT_EQ(query(*db, "SELECT count(*) FROM t")[0].int64(0), 0);
  const auto changed = run<std::int64_t>(io_, [&]() -> asio::awaitable<std::int64_t> {
    co_return co_await db->transaction([](Connection& c) {
      EXPECT_TRUE(c.in_transaction());
      return c.execute("INSERT INTO t VALUES (1), (2)");
    });
  });
  EXPECT_EQ(changed, 2);
  EXPECT_EQ(query(*db, "SELECT count(*) FROM t")[0].int64(0), 2);
}

TEST_F(SqliteDatabase, PreparedStatementsAreCachedPerConnection) {
  auto db = open_memory();
  run(io_, [&]() -> asio::awaitable<void> {
    co_await db->transaction([](Connection& c) {
      const std::size_t before = c.cached_statements();
      for (std::int64_t i = 0; i < 5; ++i) {
        const std::vector<Value> params{i};
        EXPECT_EQ(c.query("SELECT ? + 1", params)[0].int64(0), i + 1);
      }
      EXPECT_EQ(c.cached_statements(), before + 1);
    });
  });
}

TEST_F(SqliteDatabase, PingAndCloseForReadinessAndShutdown) {
  auto db = open_file();
  run(io_, [&]() -> asio::awaitable<void> { co_await db->ping(); });
  execute(*db, "CREATE TABLE t (x INTEGER)");
  run(io_, [&]() -> asio::awaitable<void> { co_await db->close(); });
  EXPECT_THROW(run(io_, [&]() -> asio::awaitable<void> { co_await db->ping(); }),
               kit::db::UnavailableError);
  EXPECT_THROW(execute(*db, "INSERT INTO t VALUES (1)"), kit::db::UnavailableError);
  // The last connection to close checkpointed the WAL into the database file.
  EXPECT_FALSE(std::filesystem::exists(dir_.file("test.db-wal")));
  run(io_, [&]() -> asio::awaitable<void> { co_await db->close(); });  // idempotent
}

}  // namespace

namespace {

TEST(SqliteHealth, ReadinessCheckReportsAClosedDatabaseWithoutDetails) {
  boost::asio::io_context io;
  TempDir dir;
  kit::db::sqlite::Options options;
  options.path = dir.file("health.db");
  auto db = run<std::unique_ptr<Database>>(
      io, [&]() -> boost::asio::awaitable<std::unique_ptr<Database>> {
        co_return co_await Database::open(options);
      });
  const kit::health::Check check = kit::db::sqlite::health_check(*db);
  run(io, [&]() -> boost::asio::awaitable<void> { co_await check(); });
  run(io, [&]() -> boost::asio::awaitable<void> { co_await db->close(); });
  try {
    run(io, [&]() -> boost::asio::awaitable<void> { co_await check(); });
    ADD_FAILURE() << "a closed database passed the readiness check";
  } catch (const kit::health::CheckFailed& e) {
    EXPECT_STREQ(e.what(), "database unavailable");
  }
}

}  // namespace
