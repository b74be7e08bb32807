#include "service/database.hpp"

#include <fmt/format.h>

#include "service/database_postgres.hpp"
#include "service/database_sqlite.hpp"

namespace user_service {

std::string migration_label(int version, std::string_view name) {
  return fmt::format("{:04}_{}", version, name);
}

boost::asio::awaitable<std::unique_ptr<Database>> Database::open(
    const Settings& settings, std::vector<boost::asio::any_io_executor> executors,
    kit::metrics::Registry* metrics) {
  if (settings.database_kind == DatabaseKind::postgres) {
    co_return co_await PostgresDatabase::open(settings, std::move(executors), metrics);
  }
  co_return co_await SqliteDatabase::open(settings, metrics);
}

}  // namespace user_service
