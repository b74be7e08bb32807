#include "kit/db/sqlite/url.hpp"

namespace kit::db::sqlite {

std::optional<std::string> path_from_url(std::string_view url) {
  constexpr std::string_view scheme = "sqlite://";
  if (!url.starts_with(scheme)) return std::nullopt;
  std::string_view rest = url.substr(scheme.size());
  if (rest == ":memory:" || rest == "/:memory:") return std::string(":memory:");
  // As in SQLAlchemy: the authority is empty, so "///x" is the relative path "x" and "////x"
  // the absolute path "/x".
  if (!rest.starts_with('/')) return std::nullopt;
  rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  return std::string(rest);
}

}  // namespace kit::db::sqlite
