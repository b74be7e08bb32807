#include "kit/db/sqlite/value.hpp"

#include "kit/db/errors.hpp"

namespace kit::db::sqlite {
namespace {

template <class T>
const T& get_as(const Value& v, std::size_t i, const char* expected) {
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw QueryError("sqlite:type", "column " + std::to_string(i) + " is not " + expected);
}

}  // namespace

const Value& Row::at(std::size_t i) const {
  if (i >= cells_.size()) {
    throw QueryError("sqlite:range", "column " + std::to_string(i) + " out of range");
  }
  return cells_[i];
}

const std::string& Row::text(std::size_t i) const {
  return get_as<std::string>(at(i), i, "text");
}
std::int64_t Row::int64(std::size_t i) const {
  return get_as<std::int64_t>(at(i), i, "an integer");
}
double Row::real(std::size_t i) const {
  return get_as<double>(at(i), i, "a real");
}

}  // namespace kit::db::sqlite
