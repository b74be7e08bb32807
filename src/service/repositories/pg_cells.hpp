#pragma once
// Reading cells of PostgreSQL results in the repositories: text (NULL as "") and timestamptz.
#include <string>

#include "kit/db/errors.hpp"
#include "kit/db/pg/result.hpp"
#include "kit/db/pg/timestamp.hpp"
#include "service/domain/user.hpp"

namespace user_service::repositories::pg_cells {

inline std::string text(const kit::db::pg::Result& r, int row, int column) {
  return std::string(r.get(row, column).value_or(""));
}

// Throws QueryError for anything but the server's timestamptz text.
inline domain::Timestamp timestamp(const kit::db::pg::Result& r, int row, int column) {
  auto t = kit::db::pg::parse_timestamp(r.get(row, column).value_or(""));
  if (!t) throw kit::db::QueryError("", "unexpected timestamp format from the database");
  return *t;
}

}  // namespace user_service::repositories::pg_cells
