#pragma once
// One SQLite connection with its prepared-statement cache. It is synchronous and NOT thread-safe:
// only the Database's worker threads use it (and code the Database hands it to, such as a
// transaction body), one thread at a time. Never use it on an I/O thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kit/db/sqlite/value.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace kit::db::sqlite {

struct ConnectionOptions {
  std::chrono::milliseconds busy_timeout{5000};
  bool read_only = false;  // PRAGMA query_only: a reader connection can never write by mistake
  bool wal = true;         // journal_mode=WAL + synchronous=NORMAL (ignored for :memory:)
  std::size_t statement_cache_size = 64;
};

class Connection {
 public:
  // Opens (creating the file if needed) and configures the connection. The parent folder must
  // exist. Throws kit::db::UnavailableError when the database cannot be opened.
  Connection(const std::string& path, const ConnectionOptions& options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one statement with positional `?` parameters and returns its rows (all of them).
  Rows query(std::string_view sql, std::span<const Value> params = {});
  // Runs one statement to completion; returns the number of rows it changed.
  std::int64_t execute(std::string_view sql, std::span<const Value> params = {});
  // Runs several `;`-separated statements without parameters and without caching (migrations).
  void execute_script(std::string_view sql);

  std::size_t cached_statements() const noexcept { return cache_.size(); }
  bool in_transaction() const noexcept;
  // For extensions (sqlite3_create_function in tests, for instance).
  sqlite3* handle() noexcept { return db_; }

 private:
  sqlite3_stmt* prepare(std::string_view sql);
  // Binds, steps to the end, and collects rows when `out` is not null.
  std::int64_t run(std::string_view sql, std::span<const Value> params, Rows* out);
  void clear_cache() noexcept;

  sqlite3* db_ = nullptr;
  std::size_t cache_limit_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace kit::db::sqlite
