#pragma once
#include <memory>

#include "kit/db/pg/pool.hpp"
#include "service/database.hpp"
#include "service/repositories/pg_user_repository.hpp"

namespace user_service {

// PostgreSQL over non-blocking libpq: a pool with one shard per I/O thread, each shard's
// connections on its thread's event loop, statements pipelined (kit/db/pg/pool.hpp).
class PostgresDatabase final : public Database {
 public:
  static boost::asio::awaitable<std::unique_ptr<Database>> open(
      const Settings& settings, std::vector<boost::asio::any_io_executor> executors,
      kit::metrics::Registry* metrics);

  boost::asio::awaitable<std::vector<std::string>> migrate() override;
  boost::asio::awaitable<std::vector<std::string>> migration_status() override;
  boost::asio::awaitable<void> ping() override;
  repositories::UserRepository& users() override { return users_; }
  boost::asio::awaitable<void> close() override;
  std::string_view kind() const noexcept override { return "postgres"; }

  explicit PostgresDatabase(std::unique_ptr<kit::db::pg::Pool> pool)
      : pool_(std::move(pool)), users_(*pool_) {}

 private:
  std::unique_ptr<kit::db::pg::Pool> pool_;
  repositories::PgUserRepository users_;
};

}  // namespace user_service
