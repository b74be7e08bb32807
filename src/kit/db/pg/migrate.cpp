#include "kit/db/pg/migrate.hpp"

#include <charconv>
#include <chrono>
#include <exception>
#include <map>

#include "kit/db/errors.hpp"
#include "kit/log/log.hpp"

namespace kit::db::pg {
namespace asio = boost::asio;
using asio::awaitable;
using migrations::Applied;
using migrations::Migration;

namespace {

constexpr std::string_view kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
))sql";

// GCC 12 rejects braced initializer lists inside co_await expressions ("array used as
// initializer"), so parameters are built in named variables first.
constexpr std::string_view kSelectApplied =
    "SELECT version, name, checksum, applied_at::text FROM schema_migrations ORDER BY version";
constexpr std::string_view kInsertApplied =
    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
    "VALUES ($1::integer, $2, $3, now())";
constexpr std::string_view kBegin = "BEGIN";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";
constexpr std::string_view kShowTimeout = "SELECT current_setting('statement_timeout')";
constexpr std::string_view kNoTimeout = "SET statement_timeout = 0";
constexpr std::string_view kRestoreTimeout = "SELECT set_config('statement_timeout', $1, false)";
constexpr std::string_view kLock = "SELECT pg_advisory_lock($1::bigint)";
constexpr std::string_view kUnlock = "SELECT pg_advisory_unlock($1::bigint)";
constexpr std::string_view kTableExists = "SELECT to_regclass('schema_migrations') IS NOT NULL";

int to_int(std::optional<std::string_view> text) {
  int value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

struct Row {
  Applied applied;
  std::optional<std::string> applied_at;
};

awaitable<std::vector<Row>> read_applied(Connection& conn) {
  Result r = co_await conn.query(kSelectApplied);
  std::vector<Row> rows;
  for (int i = 0; i < r.rows(); ++i) {
    Row row;
    row.applied.version = to_int(r.get(i, 0));
    row.applied.name = std::string(r.get(i, 1).value_or(""));
    row.applied.checksum = std::string(r.get(i, 2).value_or(""));
    if (auto at = r.get(i, 3)) row.applied_at = std::string(*at);
    rows.push_back(std::move(row));
  }
  co_return rows;
}

awaitable<std::vector<Migration>> apply_pending(Connection& conn,
                                                const std::vector<Migration>& available) {
  co_await conn.exec(kCreateTable);
  std::vector<Applied> applied;
  for (auto& row : co_await read_applied(conn)) applied.push_back(std::move(row.applied));
  std::vector<Migration> done;
  for (const Migration& m : migrations::pending(available, applied)) {
    const auto started = std::chrono::steady_clock::now();
    co_await conn.exec(kBegin);
    co_await conn.exec(m.sql);
    const Params row{std::to_string(m.version), m.name, m.checksum};
    co_await conn.query(kInsertApplied, row);
    co_await conn.exec(kCommit);
    kit::log::info("db", "migration_applied",
                   {{"version", m.version},
                    {"name", m.name},
                    {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count()}});
    done.push_back(m);
  }
  co_return done;
}

}  // namespace

awaitable<std::vector<Migration>> migrate(Connection& conn, const std::vector<Migration>& available,
                                          std::int64_t lock_key) {
  const Params key{std::to_string(lock_key)};
  // Index builds can outlast the pool's statement_timeout and the lock wait can be long.
  Result saved = co_await conn.query(kShowTimeout);
  const std::string previous{saved.get(0, 0).value_or("0")};
  co_await conn.exec(kNoTimeout);
  co_await conn.query(kLock, key);

  std::vector<Migration> done;
  std::exception_ptr error;
  try {
    done = co_await apply_pending(conn, available);
  } catch (...) {
    error = std::current_exception();
  }
  bool cleaned = false;
  try {
    // Leave the session as we found it: no half-applied migration, no lock, old timeout.
    if (conn.in_transaction()) co_await conn.exec(kRollback);
    co_await conn.query(kUnlock, key);
    const Params restore{previous};
    co_await conn.query(kRestoreTimeout, restore);
    cleaned = true;
  } catch (...) {
    if (!error) error = std::current_exception();
  }
  // Closing the session makes the server roll back and release the lock for us.
  if (!cleaned) conn.close();
  if (error) std::rethrow_exception(error);
  co_return done;
}

awaitable<std::vector<Migration>> migrate(Pool& pool, const std::vector<Migration>& available,
                                          std::int64_t lock_key) {
  std::vector<Migration> done;
  co_await pool.with_connection([&](Connection& conn) -> awaitable<void> {
    done = co_await migrate(conn, available, lock_key);
  });
  co_return done;
}

std::string_view to_string(MigrationStatus::State state) noexcept {
  switch (state) {
    case MigrationStatus::State::applied:
      return "applied";
    case MigrationStatus::State::pending:
      return "pending";
    case MigrationStatus::State::changed:
      return "changed";
    case MigrationStatus::State::unknown:
      return "unknown";
  }
  return "unknown";
}

awaitable<std::vector<MigrationStatus>> migration_status(Connection& conn,
                                                         const std::vector<Migration>& available) {
  Result exists = co_await conn.query(kTableExists);
  std::map<int, Row> recorded;
  if (exists.get(0, 0) == std::optional<std::string_view>{"t"}) {
    for (auto& row : co_await read_applied(conn)) {
      const int version = row.applied.version;
      recorded.emplace(version, std::move(row));
    }
  }
  std::map<int, MigrationStatus> out;
  for (const Migration& m : available) {
    MigrationStatus s{m.version, m.name, MigrationStatus::State::pending, std::nullopt};
    if (auto it = recorded.find(m.version); it != recorded.end()) {
      s.state = it->second.applied.checksum == m.checksum ? MigrationStatus::State::applied
                                                          : MigrationStatus::State::changed;
      s.applied_at = it->second.applied_at;
    }
    out[m.version] = std::move(s);
  }
  for (auto& [version, row] : recorded) {
    if (!out.contains(version)) {
      out[version] = MigrationStatus{version, row.applied.name, MigrationStatus::State::unknown,
                                     row.applied_at};
    }
  }
  std::vector<MigrationStatus> list;
  for (auto& [version, s] : out) list.push_back(std::move(s));
  co_return list;
}

awaitable<std::vector<MigrationStatus>> migration_status(Pool& pool,
                                                         const std::vector<Migration>& available) {
  std::vector<MigrationStatus> list;
  co_await pool.with_connection([&](Connection& conn) -> awaitable<void> {
    list = co_await migration_status(conn, available);
  });
  co_return list;
}

}  // namespace kit::db::pg
