#pragma once
// How the database drivers name and mark their child spans (docs/tracing.md "Child spans"):
// db.operation.name is the statement's operation, a SQL keyword in upper case ("SELECT",
// "INSERT"...), never a value of the statement; a failure sets error.type to a class of
// failure (and, for an error the database reported, its code).
#include <cctype>
#include <exception>
#include <string>
#include <string_view>

#include "kit/db/errors.hpp"
#include "kit/trace/child_span.hpp"

namespace kit::db {

namespace detail {

inline std::string upper_word(std::string_view sql, std::size_t& i) {
  std::string word;
  for (; i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])) != 0; ++i)
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
  return word;
}

}  // namespace detail

// A statement that begins with common table expressions (WITH ... AS (...)) is named by what it
// does: its first INSERT, UPDATE, DELETE or MERGE, in a CTE or not (a statement that writes is
// a write), else SELECT when its main statement is one; WITH when neither is found. Quoted text
// is skipped.
inline std::string sql_operation(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])) != 0) ++i;
  std::string first = detail::upper_word(sql, i);
  if (first != "WITH") return first;
  int depth = 0;
  bool main_select = false;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      const std::size_t end = sql.find(c, i + 1);
      if (end == std::string_view::npos) break;
      i = end + 1;
    } else if (c == '(' || c == ')') {
      depth += c == '(' ? 1 : -1;
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      const bool boundary = std::isalnum(static_cast<unsigned char>(sql[i - 1])) == 0 &&
                            sql[i - 1] != '_' && sql[i - 1] != '.';
      std::string word = detail::upper_word(sql, i);
      if (!boundary) continue;
      if (word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "MERGE") return word;
      if (word == "SELECT" && depth == 0) main_select = true;
    } else {
      ++i;
    }
  }
  return main_select ? std::string("SELECT") : first;
}

// Marks `span` failed by `e` (nothing when it is not recording).
inline void fail_span(kit::trace::ChildSpan& span, const std::exception& e) {
  if (!span.recording()) return;
  if (dynamic_cast<const UniqueViolation*>(&e) != nullptr) {
    span.fail("unique_violation");
  } else if (const auto* q = dynamic_cast<const QueryError*>(&e)) {
    if (!q->sqlstate().empty()) span.attribute("db.response.status_code", q->sqlstate());
    span.fail(q->sqlstate().empty() ? std::string_view("query_error") : q->sqlstate());
  } else if (dynamic_cast<const kit::errors::ServiceUnavailable*>(&e) != nullptr) {
    span.fail("unavailable");
  } else {
    span.fail("_OTHER");
  }
}

}  // namespace kit::db
