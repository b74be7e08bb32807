#pragma once
// Turns SQLite result codes into the shared typed errors of kit/db/errors.hpp, so that
// repositories never look at SQLite codes.
#include <string_view>

struct sqlite3;

namespace kit::db::sqlite {

// Throws, for the (extended) result code `rc` reported on `db`:
//   SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY -> UniqueViolation(constraint name)
//   SQLITE_BUSY / SQLITE_LOCKED (the busy timeout has already expired) -> UnavailableError
//   anything else -> QueryError("sqlite:<extended code>", message)
// `context` says what was being done (never SQL parameters: they may be personal data).
[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view context);

// The constraint named by a SQLite UNIQUE failure message:
//   "UNIQUE constraint failed: index 'users_email_key'" -> "users_email_key"
//   "UNIQUE constraint failed: users.id"               -> "users.id"
// (a column constraint has no name of its own in SQLite). Exposed for tests.
std::string_view constraint_from_message(std::string_view message) noexcept;

}  // namespace kit::db::sqlite
