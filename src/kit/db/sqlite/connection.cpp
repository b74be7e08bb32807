#include "kit/db/sqlite/connection.hpp"

#include <sqlite3.h>

#include <limits>
#include <utility>

#include "kit/db/errors.hpp"
#include "kit/db/sqlite/error_mapping.hpp"

namespace kit::db::sqlite {
namespace {

bool is_memory(const std::string& path) {
  return path == ":memory:" || path.starts_with("file::memory:");
}

// Resets the statement whatever happens, so it releases its read snapshot / locks at once
// instead of holding them until the next use of the cached statement.
class ResetGuard {
 public:
  explicit ResetGuard(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;
  ~ResetGuard() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

void bind(sqlite3* db, sqlite3_stmt* stmt, std::span<const Value> params) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (static_cast<std::size_t>(expected) != params.size()) {
    throw QueryError("sqlite:bind", "statement takes " + std::to_string(expected) +
                                        " parameters, got " + std::to_string(params.size()));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const Value& p = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::nullptr_t>(p)) {
      rc = sqlite3_bind_null(stmt, index);
    } else if (const auto* n = std::get_if<std::int64_t>(&p)) {
      rc = sqlite3_bind_int64(stmt, index, *n);
    } else if (const auto* d = std::get_if<double>(&p)) {
      rc = sqlite3_bind_double(stmt, index, *d);
    } else {
      const std::string& s = std::get<std::string>(p);
      // SQLITE_TRANSIENT: SQLite copies, so params may die before the statement is reset.
      rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) throw_error(db, rc, "bind");
  }
}

Value cell(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_NULL:
      return nullptr;
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(stmt, column));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, column);
    case SQLITE_BLOB: {
      const void* data = sqlite3_column_blob(stmt, column);
      const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, column));
      return std::string(static_cast<const char*>(data), size);
    }
    default: {
      const unsigned char* text = sqlite3_column_text(stmt, column);
      const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, column));
      return std::string(reinterpret_cast<const char*>(text), size);
    }
  }
}

}  // namespace

Connection::Connection(const std::string& path, const ConnectionOptions& options)
    : cache_limit_(options.statement_cache_size) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                    (path.starts_with("file:") ? SQLITE_OPEN_URI : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw UnavailableError("cannot open SQLite database: " + reason);
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    // The busy timeout goes first: switching to WAL may itself have to wait for another process.
    const auto timeout = std::min<std::chrono::milliseconds::rep>(options.busy_timeout.count(),
                                                                  std::numeric_limits<int>::max());
    sqlite3_busy_timeout(db_, static_cast<int>(timeout));
    execute_script("PRAGMA foreign_keys=ON");
    if (options.wal && !is_memory(path)) {
      // WAL lets readers run while the single writer commits; NORMAL is durable across
      // application crashes in WAL mode and only risks the last commits on power loss.
      const Rows mode = query("PRAGMA journal_mode=WAL");
      if (mode.empty() || mode[0].text(0) != "wal") {
        throw QueryError("sqlite:wal", "the database refused WAL journal mode");
      }
      execute_script("PRAGMA synchronous=NORMAL");
    }
    if (options.read_only) execute_script("PRAGMA query_only=ON");
  } catch (...) {
    clear_cache();
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

Connection::~Connection() {
  clear_cache();
  // close_v2 never fails on busy statements; all of ours are finalized above anyway.
  sqlite3_close_v2(db_);
}

void Connection::clear_cache() noexcept {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
}

bool Connection::in_transaction() const noexcept {
  return sqlite3_get_autocommit(db_) == 0;
}

sqlite3_stmt* Connection::prepare(std::string_view sql) {
  if (auto it = cache_.find(std::string(sql)); it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) throw_error(db_, rc, "prepare");
  if (stmt == nullptr) throw QueryError("sqlite:empty", "empty SQL statement");
  // A bounded cache: the service uses a handful of fixed statements, so a flood of distinct
  // SQL means something generates it; dropping everything is simple and keeps memory bounded.
  if (cache_.size() >= cache_limit_) clear_cache();
  cache_.emplace(std::string(sql), stmt);
  return stmt;
}

std::int64_t Connection::run(std::string_view sql, std::span<const Value> params, Rows* out) {
  sqlite3_stmt* stmt = prepare(sql);
  ResetGuard reset(stmt);
  bind(db_, stmt, params);
  const int columns = sqlite3_column_count(stmt);
  if (out != nullptr) {
    out->columns.clear();
    for (int c = 0; c < columns; ++c) out->columns.emplace_back(sqlite3_column_name(stmt, c));
  }
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) throw_error(db_, rc, "step");
    if (out == nullptr) continue;
    std::vector<Value> cells;
    cells.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) cells.push_back(cell(stmt, c));
    out->rows.emplace_back(std::move(cells));
  }
  return sqlite3_stmt_readonly(stmt) != 0 ? 0 : sqlite3_changes64(db_);
}

Rows Connection::query(std::string_view sql, std::span<const Value> params) {
  Rows rows;
  run(sql, params, &rows);
  return rows;
}

std::int64_t Connection::execute(std::string_view sql, std::span<const Value> params) {
  return run(sql, params, nullptr);
}

void Connection::execute_script(std::string_view sql) {
  const std::string copy(sql);  // sqlite3_exec wants a NUL-terminated string
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK) throw_error(db_, rc, "execute script");
}

}  // namespace kit::db::sqlite
