#pragma once
// DATABASE_URL forms a kit service accepts:
//   sqlite:///relative/path.db   a file relative to the working directory ("relative/path.db")
//   sqlite:////abs/path.db       an absolute file ("/abs/path.db")
//   sqlite://:memory:            an in-memory database (also sqlite:// and sqlite:///:memory:)
//   postgresql://… postgres://…  a libpq connection URI, checked by PQconninfoParse (which does
//                                not connect) plus the values libpq only checks when connecting
//                                (port, sslmode, connect_timeout)
#include <stdexcept>
#include <string>
#include <string_view>

#include "kit/util/enum_names.hpp"

namespace kit::config {

enum class DatabaseKind { sqlite, postgres };
inline constexpr util::EnumNames<DatabaseKind, 2> kDatabaseKindNames{{"sqlite", "postgres"}};
inline std::string_view to_string(DatabaseKind kind) noexcept {
  return kDatabaseKindNames(kind);
}

struct DatabaseUrl {
  DatabaseKind kind;
  std::string sqlite_path;  // sqlite only: the file path or ":memory:"
};

// Throws std::invalid_argument with a message that is safe to show: it never contains the
// URL's password (libpq's own messages quote the URI, so they are scrubbed).
DatabaseUrl parse_database_url(std::string_view url);

// The password of a URL as written (user info or a `password=` query parameter); empty when
// there is none. Used to scrub messages.
std::string url_password(std::string_view url);

}  // namespace kit::config
