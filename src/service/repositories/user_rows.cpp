#include "service/repositories/user_rows.hpp"

#include "kit/db/errors.hpp"
#include "service/repositories/pg_cells.hpp"
#include "service/repositories/timestamps.hpp"

namespace user_service::repositories {

domain::User pg_user_row(const kit::db::pg::Result& r, int row) {
  using pg_cells::text;
  using pg_cells::timestamp;
  domain::User u;
  u.id = text(r, row, 0);
  u.email = text(r, row, 1);
  u.name = text(r, row, 2);
  u.password_hash = text(r, row, 3);
  auto role = domain::parse_role(r.get(row, 4).value_or(""));
  if (!role) throw kit::db::QueryError("", "unexpected role in users row");
  u.role = *role;
  u.created_at = timestamp(r, row, 5);
  u.updated_at = timestamp(r, row, 6);
  u.email_verified = r.get(row, 7).value_or("f") == "t";
  return u;
}

namespace {

domain::Timestamp timestamp_cell(const kit::db::sqlite::Row& row, std::size_t i) {
  auto ts = parse_timestamp(row.text(i));
  if (!ts) throw kit::db::QueryError("sqlite:data", "users row has a malformed timestamp");
  return *ts;
}

}  // namespace

domain::User sqlite_user_row(const kit::db::sqlite::Row& row) {
  domain::User u;
  u.id = row.text(0);
  u.email = row.text(1);
  u.name = row.text(2);
  u.password_hash = row.text(3);
  const auto role = domain::parse_role(row.text(4));
  if (!role) throw kit::db::QueryError("sqlite:data", "users row has an unknown role");
  u.role = *role;
  u.created_at = timestamp_cell(row, 5);
  u.updated_at = timestamp_cell(row, 6);
  u.email_verified = row.int64(7) != 0;
  return u;
}

}  // namespace user_service::repositories
