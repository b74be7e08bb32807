#pragma once
// The dialect-independent half of the migrations runner (docs/operations.md "Migrations"): parse
// the built-in files of one dialect, checksum them, and compare with what a database has recorded.
// The appliers for PostgreSQL and SQLite use this and add locking, transactions and the
// schema_migrations table.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kit/db/migrations/source_file.hpp"

namespace kit::db::migrations {

struct MigrationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Migration {
  int version = 0;   // NNNN of NNNN_name.sql
  std::string name;  // name of NNNN_name.sql
  std::string sql;
  std::string checksum;  // SHA-256 of the file, lowercase hex
};

// A row of schema_migrations.
struct Applied {
  int version = 0;
  std::string name;
  std::string checksum;
};

// The files under `<dialect>/`, sorted by version. Throws MigrationError for a badly named
// file or two files with the same version.
std::vector<Migration> load(const std::vector<SourceFile>& files, std::string_view dialect);

// What is left to apply, in order. Throws MigrationError when an applied migration's checksum
// differs from the built-in file (it was edited after being applied) or when the database has
// a version this binary does not know (it was migrated by a newer release).
std::vector<Migration> pending(const std::vector<Migration>& available,
                               const std::vector<Applied>& applied);

std::string sha256_hex(std::string_view data);

}  // namespace kit::db::migrations
