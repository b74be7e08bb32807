// DATABASE_URL → SQLite path, and the constraint names read from SQLite's messages.
#include <gtest/gtest.h>

#include "kit/db/sqlite/error_mapping.hpp"
#include "kit/db/sqlite/url.hpp"

namespace {

using kit::db::sqlite::constraint_from_message;
using kit::db::sqlite::path_from_url;

TEST(SqliteUrl, MapsTheDocumentedForms) {
  EXPECT_EQ(path_from_url("sqlite:///./data/user-service.db"), "./data/user-service.db");
  EXPECT_EQ(path_from_url("sqlite:///relative/path.db"), "relative/path.db");
  EXPECT_EQ(path_from_url("sqlite:////abs/path.db"), "/abs/path.db");
  EXPECT_EQ(path_from_url("sqlite://:memory:"), ":memory:");
  EXPECT_EQ(path_from_url("sqlite:///:memory:"), ":memory:");
}

TEST(SqliteUrl, RefusesOtherUrls) {
  EXPECT_FALSE(path_from_url("postgresql://u@h/db"));
  EXPECT_FALSE(path_from_url("sqlite://"));
  EXPECT_FALSE(path_from_url("sqlite:///"));
  EXPECT_FALSE(path_from_url("sqlite://host/path.db"));
  EXPECT_FALSE(path_from_url("SQLITE:///x.db"));
}

TEST(SqliteErrorMapping, ReadsConstraintNames) {
  EXPECT_EQ(constraint_from_message("UNIQUE constraint failed: index 'users_email_key'"),
            "users_email_key");
  EXPECT_EQ(constraint_from_message("UNIQUE constraint failed: users.id"), "users.id");
  EXPECT_EQ(constraint_from_message("something else"), "something else");
}

}  // namespace
