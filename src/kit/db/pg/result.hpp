#pragma once
// The rows of one PostgreSQL statement in text format. A Result owns its PGresult, which does
// not depend on the connection: it may be read on any thread once the query has completed.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

struct pg_result;

namespace kit::db::pg {

class Result {
 public:
  Result() = default;
  explicit Result(pg_result* result) noexcept : result_(result) {}

  int rows() const noexcept;
  int columns() const noexcept;
  bool empty() const noexcept { return rows() == 0; }
  std::string_view column_name(int column) const noexcept;
  // Index of the named column; throws std::out_of_range when there is none.
  int column(std::string_view name) const;
  // nullopt for SQL NULL. The view lives as long as this Result.
  std::optional<std::string_view> get(int row, int column) const noexcept;
  // Rows inserted, updated, deleted, … by the command (PQcmdTuples); 0 when it reports none.
  std::uint64_t affected_rows() const noexcept;

 private:
  struct Clear {
    void operator()(pg_result* r) const noexcept;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

}  // namespace kit::db::pg
