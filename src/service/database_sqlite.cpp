#include "service/database_sqlite.hpp"

#include "kit/db/sqlite/migrations.hpp"
#include "service/repositories/embedded_migrations.hpp"

namespace user_service {

boost::asio::awaitable<std::unique_ptr<Database>> SqliteDatabase::open(
    const Settings& settings, kit::metrics::Registry* metrics) {
  kit::db::sqlite::Options options;
  options.path = settings.sqlite_path;
  options.metrics = metrics;
  auto db = co_await kit::db::sqlite::Database::open(std::move(options));
  co_return std::make_unique<SqliteDatabase>(std::move(db));
}

boost::asio::awaitable<std::vector<std::string>> SqliteDatabase::migrate() {
  const auto applied = co_await kit::db::sqlite::migrate(*db_, embedded_migrations());
  std::vector<std::string> names;
  for (const auto& m : applied) names.push_back(migration_label(m.version, m.name));
  co_return names;
}

boost::asio::awaitable<std::vector<std::string>> SqliteDatabase::migration_status() {
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

boost::asio::awaitable<void> SqliteDatabase::ping() {
  co_await db_->ping();
}

boost::asio::awaitable<void> SqliteDatabase::close() {
  co_await db_->close();
}

}  // namespace user_service
