#pragma once
// Applies the built-in migrations to PostgreSQL (docs/operations.md "Migrations"). A session-level
// advisory lock makes concurrent starts safe: the second migrator waits, then finds nothing
// pending. Each migration runs in its own transaction together with its schema_migrations row, so a
// failed one leaves no trace and is retried on the next start. An edited applied migration is
// refused (MigrationError from kit::db::migrations::pending()).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/db/migrations/migration.hpp"
#include "kit/db/pg/connection.hpp"
#include "kit/db/pg/pool.hpp"

namespace kit::db::pg {

// pg_advisory_lock key shared by every release of the service ("migrate!" in ASCII).
inline constexpr std::int64_t kMigrationLockKey = 0x6d69677261746521;

// Returns the migrations applied by this call, in order (empty when the schema was current).
// The connection's statement_timeout is lifted while migrating and restored afterwards.
boost::asio::awaitable<std::vector<migrations::Migration>> migrate(
    Connection& conn, const std::vector<migrations::Migration>& available,
    std::int64_t lock_key = kMigrationLockKey);
// Same, on a connection leased from the pool.
boost::asio::awaitable<std::vector<migrations::Migration>> migrate(
    Pool& pool, const std::vector<migrations::Migration>& available,
    std::int64_t lock_key = kMigrationLockKey);

struct MigrationStatus {
  enum class State {
    applied,
    pending,
    changed,  // applied, but the built-in file differs from what was applied
    unknown,  // recorded in the database, not built into this binary (a newer release?)
  };
  int version = 0;
  std::string name;
  State state = State::pending;
  std::optional<std::string> applied_at;  // "YYYY-MM-DD HH:MM:SS.ffffff+00"
};

std::string_view to_string(MigrationStatus::State state) noexcept;

// Every built-in migration and every recorded one, by version. Reads only; takes no lock.
boost::asio::awaitable<std::vector<MigrationStatus>> migration_status(
    Connection& conn, const std::vector<migrations::Migration>& available);
boost::asio::awaitable<std::vector<MigrationStatus>> migration_status(
    Pool& pool, const std::vector<migrations::Migration>& available);

}  // namespace kit::db::pg
