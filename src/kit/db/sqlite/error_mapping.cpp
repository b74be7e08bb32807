#include "kit/db/sqlite/error_mapping.hpp"

#include <sqlite3.h>

#include <string>

#include "kit/db/errors.hpp"

namespace kit::db::sqlite {

std::string_view constraint_from_message(std::string_view message) noexcept {
  constexpr std::string_view marker = "constraint failed: ";
  const auto at = message.find(marker);
  if (at == std::string_view::npos) return message;
  std::string_view rest = message.substr(at + marker.size());
  constexpr std::string_view index = "index '";
  if (rest.starts_with(index) && rest.ends_with('\'')) {
    return rest.substr(index.size(), rest.size() - index.size() - 1);
  }
  return rest;
}

void throw_error(sqlite3* db, int rc, std::string_view context) {
  const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      throw UniqueViolation(std::string(constraint_from_message(message)));
    default:
      break;
  }
  // The primary code is the low byte; SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE etc. are
  // contention too. busy_timeout has already waited by the time we see them.
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw UnavailableError(std::string(context) + ": " + message);
    default:
      throw QueryError("sqlite:" + std::to_string(rc), std::string(context) + ": " + message);
  }
}

}  // namespace kit::db::sqlite
