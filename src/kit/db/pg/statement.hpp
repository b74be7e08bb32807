#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kit/db/spans.hpp"

namespace kit::db::pg {

// A prepared statement. Each connection prepares it on first use and remembers the name, so one
// name must always mean one SQL text (define statements as constants next to their users).
struct Statement {
  Statement(std::string n, std::string s, bool read = false)
      : name(std::move(n)), sql(std::move(s)), read_only(read) {
    operation = sql_operation(sql);
    summary = operation + " " + name;
  }

  std::string name;
  std::string sql;
  // How its child span is named (docs/tracing.md "Child spans"): the SQL's first keyword in
  // upper case (db.operation.name), and that keyword with the name ("SELECT users_find_by_id").
  std::string operation;
  std::string summary;
  // A read: in pipeline mode it may share a batch (one implicit transaction) with other reads,
  // and is sent again if another statement of that batch fails. Writes get a batch each.
  bool read_only = false;
};

// Text-format parameters; nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

}  // namespace kit::db::pg
