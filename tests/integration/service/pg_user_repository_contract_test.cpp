// The shared UserRepository contract (tests/integration/service) run against PostgreSQL:
// each test gets a fresh database, migrated with the built-in migrations, and a real pool.
#include <memory>

#include "kit/db/migrations/migration.hpp"
#include "kit/db/pg/migrate.hpp"
#include "kit/db/pg/pool.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/pg_session_repository.hpp"
#include "service/repositories/pg_user_repository.hpp"
#include "tests/support/pg_server.hpp"
#include "user_repository_contract.hpp"

namespace user_service::repositories::contract {
namespace {

class PgHandle final : public Handle {
 public:
  PgHandle(std::unique_ptr<pg_test::TempDatabase> db, std::unique_ptr<kit::db::pg::Pool> pool)
      : db_(std::move(db)), pool_(std::move(pool)), repository_(*pool_), sessions_(*pool_) {}
  UserRepository& repository() override { return repository_; }
  SessionRepository& sessions() override { return sessions_; }
  boost::asio::awaitable<void> close() override { co_await pool_->close(); }

 private:
  std::unique_ptr<pg_test::TempDatabase> db_;  // declared first: dropped after the pool
  std::unique_ptr<kit::db::pg::Pool> pool_;
  PgUserRepository repository_;
  PgSessionRepository sessions_;
};

boost::asio::awaitable<std::unique_ptr<Handle>> open_postgres() {
  // Fails (never skips) when USER_SERVICE_TEST_PG_URL is not set.
  auto db = std::make_unique<pg_test::TempDatabase>("uscontract_");
  kit::db::pg::PoolOptions options;
  options.conninfo = db->url();
  options.size = 4;
  options.max_overflow = 4;
  auto executor = co_await boost::asio::this_coro::executor;
  auto pool = std::make_unique<kit::db::pg::Pool>(executor, std::move(options));
  co_await pool->start();
  const auto migrations = kit::db::migrations::load(embedded_migrations(), "postgres");
  co_await kit::db::pg::migrate(*pool, migrations);
  co_return std::make_unique<PgHandle>(std::move(db), std::move(pool));
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, UserRepositoryContract,
                         ::testing::Values(Backend{"postgres", [] { return open_postgres(); }}),
                         backend_name);

}  // namespace user_service::repositories::contract
