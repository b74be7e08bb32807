// The UserRepository contract for SQLite: a file database in a temporary folder (WAL, separate
// reader connections) and a :memory: database (one connection for everything).
#include <memory>

#include "kit/db/sqlite/database.hpp"
#include "kit/db/sqlite/migrations.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/sqlite_session_repository.hpp"
#include "service/repositories/sqlite_user_repository.hpp"
#include "tests/support/temp_dir.hpp"
#include "user_repository_contract.hpp"

namespace user_service::repositories::contract {
namespace {

namespace sqlite = kit::db::sqlite;

class SqliteHandle final : public Handle {
 public:
  SqliteHandle(std::unique_ptr<sqlite_test::TempDir> dir, std::unique_ptr<sqlite::Database> db)
      : dir_(std::move(dir)), db_(std::move(db)), repository_(*db_), sessions_(*db_) {}
  UserRepository& repository() override { return repository_; }
  SessionRepository& sessions() override { return sessions_; }
  boost::asio::awaitable<void> close() override { co_await db_->close(); }

 private:
  std::unique_ptr<sqlite_test::TempDir> dir_;  // declared first: removed after the database
  std::unique_ptr<sqlite::Database> db_;
  SqliteUserRepository repository_;
  SqliteSessionRepository sessions_;
};

boost::asio::awaitable<std::unique_ptr<Handle>> open_sqlite(bool in_memory) {
  auto dir = in_memory ? nullptr : std::make_unique<sqlite_test::TempDir>();
  sqlite::Options options;
  options.path = in_memory ? ":memory:" : dir->file("users.db");
  auto db = co_await sqlite::Database::open(std::move(options));
  co_await sqlite::migrate(*db, embedded_migrations());
  co_return std::make_unique<SqliteHandle>(std::move(dir), std::move(db));
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Sqlite, UserRepositoryContract,
                         ::testing::Values(Backend{"file", [] { return open_sqlite(false); }},
                                           Backend{"memory", [] { return open_sqlite(true); }}),
                         backend_name);

}  // namespace user_service::repositories::contract
