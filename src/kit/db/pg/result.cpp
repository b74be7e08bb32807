#include "kit/db/pg/result.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>

namespace kit::db::pg {

void Result::Clear::operator()(pg_result* r) const noexcept {
  PQclear(r);
}

int Result::rows() const noexcept {
  return result_ ? PQntuples(result_.get()) : 0;
}

int Result::columns() const noexcept {
  return result_ ? PQnfields(result_.get()) : 0;
}

std::string_view Result::column_name(int column) const noexcept {
  const char* name = result_ ? PQfname(result_.get(), column) : nullptr;
  return name ? std::string_view{name} : std::string_view{};
}

int Result::column(std::string_view name) const {
  for (int i = 0; i < columns(); ++i) {
    if (column_name(i) == name) return i;
  }
  throw std::out_of_range("no column named " + std::string(name) + " in result");
}

std::optional<std::string_view> Result::get(int row, int column) const noexcept {
  if (!result_ || row < 0 || column < 0 || row >= rows() || column >= columns()) {
    return std::nullopt;
  }
  if (PQgetisnull(result_.get(), row, column)) return std::nullopt;
  return std::string_view{PQgetvalue(result_.get(), row, column),
                          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::uint64_t Result::affected_rows() const noexcept {
  if (!result_) return 0;
  const char* text = PQcmdTuples(result_.get());
  std::uint64_t n = 0;
  std::from_chars(text, text + std::strlen(text), n);
  return n;
}

}  // namespace kit::db::pg
