#pragma once
// The configured database behind one face: the embedded SQLite file (the default) or a
// PostgreSQL pool. The application factory opens it, migrates it when configured, registers
// its readiness check and hands its repositories to the services.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "kit/metrics/registry.hpp"
#include "service/repositories/user_repository.hpp"
#include "service/settings.hpp"

namespace user_service {

// "0001_create_users": how migrations are named in logs and `migrate --status`.
std::string migration_label(int version, std::string_view name);

class Database {
 public:
  virtual ~Database() = default;

  // Opens the backend named by settings.database_url. For PostgreSQL this waits for the
  // server with backoff up to DATABASE_CONNECT_TIMEOUT_SECONDS; its pool has one shard per
  // executor in `executors` (the I/O threads: each thread queries its own connections). The
  // connection pool reports db_pool_* into `metrics` unless it is null.
  static boost::asio::awaitable<std::unique_ptr<Database>> open(
      const Settings& settings, std::vector<boost::asio::any_io_executor> executors,
      kit::metrics::Registry* metrics = nullptr);

  // Applies pending migrations; returns the applied ones as "NNNN_name".
  virtual boost::asio::awaitable<std::vector<std::string>> migrate() = 0;
  // One line per migration for `user-service migrate --status`.
  virtual boost::asio::awaitable<std::vector<std::string>> migration_status() = 0;
  // Readiness: a trivial query, bounded. Throws when the database cannot answer.
  virtual boost::asio::awaitable<void> ping() = 0;
  virtual repositories::UserRepository& users() = 0;
  // Graceful shutdown, after the last request.
  virtual boost::asio::awaitable<void> close() = 0;
  virtual std::string_view kind() const noexcept = 0;
};

}  // namespace user_service
