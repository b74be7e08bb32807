#include "service/database_postgres.hpp"

#include "kit/db/migrations/migration.hpp"
#include "kit/db/pg/migrate.hpp"
#include "service/repositories/embedded_migrations.hpp"

namespace user_service {

namespace {

std::vector<kit::db::migrations::Migration> built_in() {
  return kit::db::migrations::load(embedded_migrations(), "postgres");
}

}  // namespace

boost::asio::awaitable<std::unique_ptr<Database>> PostgresDatabase::open(
    const Settings& settings, std::vector<boost::asio::any_io_executor> executors,
    kit::metrics::Registry* metrics) {
  kit::db::pg::PoolOptions options;
  options.conninfo = settings.database_url;
  options.size = settings.database_pool_size;
  options.max_overflow = settings.database_pool_max_overflow;
  options.acquire_timeout = settings.database_pool_timeout;
  options.connect_timeout = settings.database_connect_timeout;
  options.statement_timeout = settings.database_statement_timeout;
  options.application_name = "user-service";
  options.metrics = metrics;
  auto pool = std::make_unique<kit::db::pg::Pool>(std::move(executors), std::move(options));
  co_await pool->start();
  co_return std::make_unique<PostgresDatabase>(std::move(pool));
}

boost::asio::awaitable<std::vector<std::string>> PostgresDatabase::migrate() {
  const auto applied = co_await kit::db::pg::migrate(*pool_, built_in());
  std::vector<std::string> names;
  for (const auto& m : applied) names.push_back(migration_label(m.version, m.name));
  co_return names;
}

boost::asio::awaitable<std::vector<std::string>> PostgresDatabase::migration_status() {
  const auto status = co_await kit::db::pg::migration_status(*pool_, built_in());
  std::vector<std::string> lines;
  for (const auto& s : status) {
    std::string line =
        std::string(kit::db::pg::to_string(s.state)) + "  " + migration_label(s.version, s.name);
    if (s.applied_at) line += "  " + *s.applied_at;
    lines.push_back(std::move(line));
  }
  co_return lines;
}

boost::asio::awaitable<void> PostgresDatabase::ping() {
  co_await pool_->ping();
}

boost::asio::awaitable<void> PostgresDatabase::close() {
  co_await pool_->close();
}

}  // namespace user_service
