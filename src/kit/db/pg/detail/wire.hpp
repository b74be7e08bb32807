#pragma once
// Small pieces of the libpq protocol handling shared by one-at-a-time statements
// (connection.cpp) and pipeline mode (connection_pipeline.cpp).
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "kit/db/pg/statement.hpp"

struct pg_result;

namespace kit::db::pg::detail {

// The fields of an error result that the driver uses.
struct ErrorFields {
  std::string sqlstate;
  std::string message;
  std::string constraint;
};

ErrorFields error_fields(const pg_result* r);

// Class 08 and the admin shutdowns (57P01-57P03): the connection is gone, not the statement.
bool is_connection_failure(std::string_view sqlstate);

// The exception a failed statement surfaces as (connection failures aside): UniqueViolation for
// 23505, QueryError otherwise, with anything in `secrets` masked out of the message.
std::exception_ptr statement_error(const ErrorFields& error,
                                   const std::vector<std::string>& secrets);

// Text parameters as the const char* array libpq takes; null entries are SQL NULL.
struct ParamArrays {
  explicit ParamArrays(const Params& params) {
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  }
  int count() const { return static_cast<int>(values.size()); }
  const char* const* data() const { return values.empty() ? nullptr : values.data(); }
  std::vector<const char*> values;
};

}  // namespace kit::db::pg::detail
