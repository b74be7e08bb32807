#include "kit/db/pg/detail/wire.hpp"

#include <libpq-fe.h>

#include "kit/db/errors.hpp"
#include "kit/db/pg/detail/conninfo.hpp"

namespace kit::db::pg::detail {

ErrorFields error_fields(const PGresult* r) {
  auto field = [r](int code) {
    const char* v = PQresultErrorField(r, code);
    return v ? std::string(v) : std::string();
  };
  ErrorFields f{field(PG_DIAG_SQLSTATE), field(PG_DIAG_MESSAGE_PRIMARY),
                field(PG_DIAG_CONSTRAINT_NAME)};
  if (f.message.empty()) {
    const char* m = PQresultErrorMessage(r);
    f.message = m ? m : "unknown error";
  }
  return f;
}

bool is_connection_failure(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

std::exception_ptr statement_error(const ErrorFields& error,
                                   const std::vector<std::string>& secrets) {
  if (error.sqlstate == "23505") return std::make_exception_ptr(UniqueViolation(error.constraint));
  return std::make_exception_ptr(QueryError(error.sqlstate, redact(error.message, secrets)));
}

}  // namespace kit::db::pg::detail
