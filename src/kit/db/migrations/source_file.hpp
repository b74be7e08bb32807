#pragma once
#include <string_view>
#include <vector>

namespace kit::db::migrations {

// One migration file as built into the binary: `path` is relative to migrations/, e.g.
// "postgres/0001_create_users.sql".
struct SourceFile {
  std::string_view path;
  std::string_view content;
};

}  // namespace kit::db::migrations
