#pragma once
// The configured database behind one face: the embedded SQLite file (the default) or a
// PostgreSQL pool. The application factory creates it with the rest of the object graph (its
// repositories go to the services as plain references), starts it before it listens, migrates
// it when configured and registers its readiness check.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "kit/metrics/registry.hpp"
#include "kit/outbox/store.hpp"
#include "service/repositories/account_token_repository.hpp"
#include "service/repositories/session_repository.hpp"
#include "service/repositories/user_repository.hpp"
#include "service/settings.hpp"

namespace user_service {

// "0001_create_users": how migrations are named in logs and `migrate --status`.
std::string migration_label(int version, std::string_view name);

class Database {
 public:
  virtual ~Database() = default;

  // The backend named by settings.database_url, not connected yet. A PostgreSQL pool has one
  // shard per executor in `executors` (the I/O threads: each thread queries its own
  // connections). The connection pool reports db_pool_* into `metrics` unless it is null.
  static std::unique_ptr<Database> create(const Settings& settings,
                                          std::vector<boost::asio::any_io_executor> executors,
                                          kit::metrics::Registry* metrics = nullptr);
  // create() then start().
  static boost::asio::awaitable<std::unique_ptr<Database>> open(
      const Settings& settings, std::vector<boost::asio::any_io_executor> executors,
      kit::metrics::Registry* metrics = nullptr);

  // Connects. PostgreSQL: waits for the server with backoff up to
  // DATABASE_CONNECT_TIMEOUT_SECONDS; SQLite: opens (and creates) the file. The repositories
  // answer only after this.
  virtual boost::asio::awaitable<void> start() = 0;
  // Applies pending migrations; returns the applied ones as "NNNN_name".
  virtual boost::asio::awaitable<std::vector<std::string>> migrate() = 0;
  // One line per migration for `user-service migrate --status`.
  virtual boost::asio::awaitable<std::vector<std::string>> migration_status() = 0;
  // Readiness: a trivial query, bounded. Throws when the database cannot answer.
  virtual boost::asio::awaitable<void> ping() = 0;
  virtual repositories::UserRepository& users() = 0;
  virtual repositories::SessionRepository& sessions() = 0;
  virtual repositories::AccountTokenRepository& account_tokens() = 0;
  // The events' outbox, for the dispatcher (docs/events.md).
  virtual kit::outbox::Store& outbox() = 0;
  // Graceful shutdown, after the last request.
  virtual boost::asio::awaitable<void> close() = 0;
};

}  // namespace user_service
