#pragma once
// The SQLite migrations applier (docs/operations.md "Migrations"), built on the dialect-independent
// core in kit/db/migrations. Each pending migration is applied in its own BEGIN IMMEDIATE
// transaction together with its schema_migrations row, and the applied list is re-read inside that
// same transaction: the write lock serializes two processes migrating one file, and the second one
// simply finds nothing left to do.
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/db/migrations/migration.hpp"
#include "kit/db/migrations/source_file.hpp"
#include "kit/db/sqlite/database.hpp"

namespace kit::db::sqlite {

inline constexpr std::string_view kMigrationsDialect = "sqlite";

struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
  std::string applied_at;  // RFC 3339 UTC
};

struct MigrationStatus {
  std::vector<AppliedMigration> applied;                // by version
  std::vector<kit::db::migrations::Migration> pending;  // in the order they would be applied
  std::optional<std::string> problem;  // set when migrating would fail (an edited migration…)
};

// Applies the pending `sqlite/` migrations of `files`; returns what was applied, in order.
// Throws kit::db::migrations::MigrationError for an edited or unknown applied migration (nothing
// is applied then), and the database's typed errors when a migration's SQL fails (that migration
// is rolled back; earlier ones stay applied).
boost::asio::awaitable<std::vector<kit::db::migrations::Migration>> migrate(
    Database& db, const std::vector<kit::db::migrations::SourceFile>& files);

// What is applied and what is pending, for `user-service migrate --status`. Read-only: it does
// not create schema_migrations, and reports problems instead of throwing them.
boost::asio::awaitable<MigrationStatus> migration_status(
    Database& db, const std::vector<kit::db::migrations::SourceFile>& files);

}  // namespace kit::db::sqlite
