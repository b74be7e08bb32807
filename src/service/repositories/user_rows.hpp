#pragma once
// A users row as both backends' statements select it (USER_COLUMNS, in this order), read into
// the entity. Shared by every repository whose statements return a user.
#include "kit/db/pg/result.hpp"
#include "kit/db/sqlite/value.hpp"
#include "service/domain/user.hpp"

// The columns every statement returning a user selects, in the order the readers below expect.
#define USER_COLUMNS "id, email, name, password_hash, role, created_at, updated_at, email_verified"

namespace user_service::repositories {

// Throws kit::db::QueryError for a row the schema cannot have produced.
domain::User pg_user_row(const kit::db::pg::Result& r, int row);
domain::User sqlite_user_row(const kit::db::sqlite::Row& row);

}  // namespace user_service::repositories
