#pragma once
#include <memory>

#include "kit/db/sqlite/database.hpp"
#include "service/database.hpp"
#include "service/repositories/sqlite_user_repository.hpp"

namespace user_service {

// The embedded default: a SQLite file (or :memory:) whose calls run on worker threads.
class SqliteDatabase final : public Database {
 public:
  static boost::asio::awaitable<std::unique_ptr<Database>> open(const Settings& settings,
                                                                kit::metrics::Registry* metrics);

  boost::asio::awaitable<std::vector<std::string>> migrate() override;
  boost::asio::awaitable<std::vector<std::string>> migration_status() override;
  boost::asio::awaitable<void> ping() override;
  repositories::UserRepository& users() override { return users_; }
  boost::asio::awaitable<void> close() override;
  std::string_view kind() const noexcept override { return "sqlite"; }

  explicit SqliteDatabase(std::unique_ptr<kit::db::sqlite::Database> db)
      : db_(std::move(db)), users_(*db_) {}

 private:
  std::unique_ptr<kit::db::sqlite::Database> db_;
  repositories::SqliteUserRepository users_;
};

}  // namespace user_service
