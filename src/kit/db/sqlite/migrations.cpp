#include "kit/db/sqlite/migrations.hpp"

#include "kit/log/log.hpp"

namespace kit::db::sqlite {
namespace migrations = kit::db::migrations;
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)";
constexpr std::string_view kSelectApplied =
    "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version";
constexpr std::string_view kInsertApplied =
    "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
    " VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";
constexpr std::string_view kTableExists =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";

std::vector<AppliedMigration> to_applied(const Rows& rows) {
  std::vector<AppliedMigration> out;
  for (const Row& r : rows) {
    out.push_back({static_cast<int>(r.int64(0)), r.text(1), r.text(2), r.text(3)});
  }
  return out;
}

std::vector<migrations::Applied> to_core(const std::vector<AppliedMigration>& applied) {
  std::vector<migrations::Applied> out;
  for (const AppliedMigration& a : applied) out.push_back({a.version, a.name, a.checksum});
  return out;
}

// One step, inside BEGIN IMMEDIATE on the writer: apply the first pending migration, if any.
std::optional<migrations::Migration> apply_next(Connection& c,
                                                const std::vector<migrations::Migration>& all) {
  c.execute_script(kCreateTable);
  const auto applied = to_applied(c.query(kSelectApplied));
  const auto pending = migrations::pending(all, to_core(applied));
  if (pending.empty()) return std::nullopt;
  const migrations::Migration& next = pending.front();
  c.execute_script(next.sql);
  const std::vector<Value> params{std::int64_t{next.version}, next.name, next.checksum};
  c.execute(kInsertApplied, params);
  return next;
}

}  // namespace

boost::asio::awaitable<std::vector<migrations::Migration>> migrate(
    Database& db, const std::vector<migrations::SourceFile>& files) {
  const std::vector<migrations::Migration> all = migrations::load(files, kMigrationsDialect);
  std::vector<migrations::Migration> done;
  for (;;) {
    auto applied = co_await db.transaction([&all](Connection& c) { return apply_next(c, all); });
    if (!applied) break;
    kit::log::info("db.migrations", "migration_applied",
                   {{"version", applied->version}, {"name", applied->name}});
    done.push_back(std::move(*applied));
  }
  co_return done;
}

boost::asio::awaitable<MigrationStatus> migration_status(
    Database& db, const std::vector<migrations::SourceFile>& files) {
  MigrationStatus status;
  std::vector<migrations::Migration> all;
  try {
    all = migrations::load(files, kMigrationsDialect);
  } catch (const migrations::MigrationError& e) {
    status.problem = e.what();
    co_return status;
  }
  const Rows exists = co_await db.query(std::string(kTableExists));
  if (exists[0].int64(0) > 0) {
    status.applied = to_applied(co_await db.query(std::string(kSelectApplied)));
  }
  try {
    status.pending = migrations::pending(all, to_core(status.applied));
  } catch (const migrations::MigrationError& e) {
    status.problem = e.what();
  }
  co_return status;
}

}  // namespace kit::db::sqlite
