#pragma once
// DATABASE_URL for SQLite (docs/configuration.md "Settings"): "sqlite:///relative/path.db",
// "sqlite:////abs/path.db", "sqlite://:memory:" (and "sqlite:///:memory:"). Returns the path to
// open, or nullopt when the URL is not a SQLite URL or has no path.
#include <optional>
#include <string>
#include <string_view>

namespace kit::db::sqlite {

std::optional<std::string> path_from_url(std::string_view url);

}  // namespace kit::db::sqlite
