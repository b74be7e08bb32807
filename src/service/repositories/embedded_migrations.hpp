#pragma once
// The SQL files under migrations/ as compiled into the binary by cmake/embed_migrations.cmake.
#include <vector>

#include "kit/db/migrations/source_file.hpp"

namespace user_service {
const std::vector<kit::db::migrations::SourceFile>& embedded_migrations();
}  // namespace user_service
