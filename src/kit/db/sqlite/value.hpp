#pragma once
// Typed parameters and result cells of the SQLite executor. One variant serves both directions:
// SQLite has exactly these storage classes (BLOBs are returned as byte strings).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace kit::db::sqlite {

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
using Param = Value;

class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> cells) : cells_(std::move(cells)) {}

  std::size_t size() const noexcept { return cells_.size(); }
  const Value& at(std::size_t i) const;
  bool is_null(std::size_t i) const { return std::holds_alternative<std::nullptr_t>(at(i)); }
  // Typed access; a cell of another type (or a null) throws kit::db::QueryError, because it means
  // the SQL and the code reading it disagree.
  const std::string& text(std::size_t i) const;
  std::int64_t int64(std::size_t i) const;
  double real(std::size_t i) const;

 private:
  std::vector<Value> cells_;
};

struct Rows {
  std::vector<std::string> columns;
  std::vector<Row> rows;

  bool empty() const noexcept { return rows.empty(); }
  std::size_t size() const noexcept { return rows.size(); }
  const Row& operator[](std::size_t i) const { return rows.at(i); }
  auto begin() const noexcept { return rows.begin(); }
  auto end() const noexcept { return rows.end(); }
};

}  // namespace kit::db::sqlite
