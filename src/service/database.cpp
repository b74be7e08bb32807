#include "service/database.hpp"

#include <fmt/format.h>

#include "kit/db/migrations/migration.hpp"
#include "kit/db/pg/migrate.hpp"
#include "kit/db/pg/pool.hpp"
#include "kit/db/sqlite/database.hpp"
#include "kit/db/sqlite/migrations.hpp"
#include "service/event_destinations.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/pg_account_token_repository.hpp"
#include "service/repositories/pg_outbox_store.hpp"
#include "service/repositories/pg_session_repository.hpp"
#include "service/repositories/pg_user_repository.hpp"
#include "service/repositories/sqlite_account_token_repository.hpp"
#include "service/repositories/sqlite_outbox_store.hpp"
#include "service/repositories/sqlite_session_repository.hpp"
#include "service/repositories/sqlite_user_repository.hpp"

namespace user_service {

namespace {

using boost::asio::awaitable;

std::vector<std::string> labels(const auto& migrations) {
  std::vector<std::string> names;
  for (const auto& m : migrations) names.push_back(migration_label(m.version, m.name));
  return names;
}

// PostgreSQL over non-blocking libpq: a pool with one shard per I/O thread, each shard's
// connections on its thread's event loop, statements pipelined (kit/db/pg/pool.hpp).
class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::unique_ptr<kit::db::pg::Pool> pool, std::vector<std::string> destinations)
      : pool_(std::move(pool)),
        users_(*pool_, destinations),
        sessions_(*pool_, destinations),
        account_tokens_(*pool_, destinations),
        outbox_(*pool_) {}

  awaitable<void> start() override { co_await pool_->start(); }
  awaitable<std::vector<std::string>> migrate() override {
    co_return labels(co_await kit::db::pg::migrate(*pool_, built_in()));
  }
  awaitable<std::vector<std::string>> migration_status() override {
    std::vector<std::string> lines;
    for (const auto& s : co_await kit::db::pg::migration_status(*pool_, built_in())) {
      std::string line =
          std::string(kit::db::pg::to_string(s.state)) + "  " + migration_label(s.version, s.name);
      if (s.applied_at) line += "  " + *s.applied_at;
      lines.push_back(std::move(line));
    }
    co_return lines;
  }
  awaitable<void> ping() override { co_await pool_->ping(); }
  repositories::UserRepository& users() override { return users_; }
  repositories::SessionRepository& sessions() override { return sessions_; }
  repositories::AccountTokenRepository& account_tokens() override { return account_tokens_; }
  kit::outbox::Store& outbox() override { return outbox_; }
  awaitable<void> close() override { co_await pool_->close(); }

 private:
  static std::vector<kit::db::migrations::Migration> built_in() {
    return kit::db::migrations::load(embedded_migrations(), "postgres");
  }

  std::unique_ptr<kit::db::pg::Pool> pool_;
  repositories::PgUserRepository users_;
  repositories::PgSessionRepository sessions_;
  repositories::PgAccountTokenRepository account_tokens_;
  repositories::PgOutboxStore outbox_;
};

// The embedded default: a SQLite file (or :memory:) whose calls run on worker threads.
class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::unique_ptr<kit::db::sqlite::Database> db,
                 std::vector<std::string> destinations)
      : db_(std::move(db)),
        users_(*db_, destinations),
        sessions_(*db_, destinations),
        account_tokens_(*db_, destinations),
        outbox_(*db_) {}

  awaitable<void> start() override { co_await db_->start(); }
  awaitable<std::vector<std::string>> migrate() override {
    co_return labels(co_await kit::db::sqlite::migrate(*db_, embedded_migrations()));
  }
  awaitable<std::vector<std::string>> migration_status() override {
    const auto status = co_await kit::db::sqlite::migration_status(*db_, embedded_migrations());
    std::vector<std::string> lines;
    for (const auto& a : status.applied) {
      lines.push_back("applied  " + migration_label(a.version, a.name) + "  " + a.applied_at);
    }
    for (const auto& p : status.pending) {
      lines.push_back("pending  " + migration_label(p.version, p.name));
    }
    if (status.problem) lines.push_back("problem  " + *status.problem);
    co_return lines;
  }
  awaitable<void> ping() override { co_await db_->ping(); }
  repositories::UserRepository& users() override { return users_; }
  repositories::SessionRepository& sessions() override { return sessions_; }
  repositories::AccountTokenRepository& account_tokens() override { return account_tokens_; }
  kit::outbox::Store& outbox() override { return outbox_; }
  awaitable<void> close() override { co_await db_->close(); }

 private:
  std::unique_ptr<kit::db::sqlite::Database> db_;
  repositories::SqliteUserRepository users_;
  repositories::SqliteSessionRepository sessions_;
  repositories::SqliteAccountTokenRepository account_tokens_;
  repositories::SqliteOutboxStore outbox_;
};

}  // namespace

std::string migration_label(int version, std::string_view name) {
  return fmt::format("{:04}_{}", version, name);
}

std::unique_ptr<Database> Database::create(const Settings& settings,
                                           std::vector<boost::asio::any_io_executor> executors,
                                           kit::metrics::Registry* metrics) {
  if (settings.database_kind == DatabaseKind::postgres) {
    kit::db::pg::PoolOptions options;
    options.conninfo = settings.database_url;
    options.size = settings.database_pool_size;
    options.max_overflow = settings.database_pool_max_overflow;
    options.acquire_timeout = settings.database_pool_timeout;
    options.connect_timeout = settings.database_connect_timeout;
    options.statement_timeout = settings.database_statement_timeout;
    options.application_name = "user-service";
    options.metrics = metrics;
    return std::make_unique<PostgresDatabase>(
        std::make_unique<kit::db::pg::Pool>(std::move(executors), std::move(options)),
        event_destinations(settings));
  }
  kit::db::sqlite::Options options;
  options.path = settings.sqlite_path;
  options.metrics = metrics;
  return std::make_unique<SqliteDatabase>(
      std::make_unique<kit::db::sqlite::Database>(std::move(options)),
      event_destinations(settings));
}

awaitable<std::unique_ptr<Database>> Database::open(
    const Settings& settings, std::vector<boost::asio::any_io_executor> executors,
    kit::metrics::Registry* metrics) {
  auto database = create(settings, std::move(executors), metrics);
  co_await database->start();
  co_return database;
}

}  // namespace user_service
