#pragma once
#include <optional>
#include <string>
#include <vector>

namespace kit::db::pg {

// A prepared statement. Each connection prepares it on first use and remembers the name, so one
// name must always mean one SQL text (define statements as constants next to their users).
struct Statement {
  std::string name;
  std::string sql;
};

// Text-format parameters; nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

}  // namespace kit::db::pg
