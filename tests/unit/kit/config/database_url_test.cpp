#include "kit/config/database_url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kit::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(std::string_view url) {
  try {
    parse_database_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << url;
  return {};
}

TEST(DatabaseUrl, SqliteRelative) {
  const auto u = parse_database_url("sqlite:///./data/user-service.db");
  EXPECT_EQ(u.kind, DatabaseKind::sqlite);
  EXPECT_EQ(u.sqlite_path, "./data/user-service.db");
  EXPECT_EQ(parse_database_url("sqlite:///relative/path.db").sqlite_path, "relative/path.db");
}

TEST(DatabaseUrl, SqliteAbsolute) {
  EXPECT_EQ(parse_database_url("sqlite:////abs/path.db").sqlite_path, "/abs/path.db");
  EXPECT_EQ(parse_database_url("sqlite:////var/lib/app/x.db").sqlite_path, "/var/lib/app/x.db");
}

TEST(DatabaseUrl, SqliteMemory) {
  for (const auto* url : {"sqlite://:memory:", "sqlite://", "sqlite:///:memory:"}) {
    const auto u = parse_database_url(url);
    EXPECT_EQ(u.kind, DatabaseKind::sqlite) << url;
    EXPECT_EQ(u.sqlite_path, ":memory:") << url;
  }
}

TEST(DatabaseUrl, SqliteMistakes) {
  EXPECT_THAT(error_of("sqlite://host/x.db"), HasSubstr("a host is not allowed"));
  EXPECT_THAT(error_of("sqlite:///"), HasSubstr("needs a file name"));
  EXPECT_THAT(error_of("sqlite:///data/"), HasSubstr("needs a file name"));
  EXPECT_THAT(error_of("sqlite:///x.db?mode=ro"), HasSubstr("query parameters"));
}

TEST(DatabaseUrl, Postgres) {
  for (const auto* url : {"postgresql://u:p@localhost:5432/users", "postgres://u:p@localhost/users",
                          "postgresql://u:p@db/users?sslmode=require&connect_timeout=10",
                          "postgresql://u@[::1]:5432/users?sslmode=verify-full",
                          "postgresql://h1:5432,h2:5433/users?target_session_attrs=read-write",
                          "postgresql:///users?host=/var/run/postgresql", "postgresql://"}) {
    EXPECT_EQ(parse_database_url(url).kind, DatabaseKind::postgres) << url;
    EXPECT_EQ(parse_database_url(url).sqlite_path, "") << url;
  }
}

TEST(DatabaseUrl, PostgresErrorsFromLibpq) {
  EXPECT_THAT(error_of("postgresql://h/db?nosuchoption=1"),
              HasSubstr("invalid URI query parameter: \"nosuchoption\""));
  EXPECT_THAT(error_of("postgresql://[::1/db"), HasSubstr("not a valid PostgreSQL connection URI"));
}

TEST(DatabaseUrl, PostgresValuesLibpqOnlyChecksWhenConnecting) {
  EXPECT_THAT(error_of("postgresql://h:99999/db"), HasSubstr("port"));
  EXPECT_THAT(error_of("postgresql://h:abc/db"), HasSubstr("port"));
  EXPECT_THAT(error_of("postgresql://h/db?sslmode=bogus"), HasSubstr("sslmode"));
  EXPECT_THAT(error_of("postgresql://h/db?connect_timeout=soon"), HasSubstr("connect_timeout"));
}

TEST(DatabaseUrl, LibpqMessagesNeverCarryThePassword) {
  // libpq quotes the offending token or the whole URI in its messages.
  for (const auto* url :
       {"postgresql://u:sec%zzret@h/db", "postgresql://u:secret@[::1/db",
        "postgresql://u:secret@h/db?x=1", "postgresql://h/db?password=secret&x=1"}) {
    const auto message = error_of(url);
    EXPECT_THAT(message, Not(HasSubstr("secret"))) << url;
    EXPECT_THAT(message, Not(HasSubstr("sec%zz"))) << url;
    EXPECT_THAT(message, HasSubstr("not a valid PostgreSQL connection URI")) << url;
  }
}

TEST(DatabaseUrl, UnsupportedSchemes) {
  EXPECT_THAT(error_of("mysql://u:p@h/db"), HasSubstr("must start with sqlite://"));
  EXPECT_THAT(error_of("POSTGRESQL://h/db"), HasSubstr("lowercase"));
  EXPECT_THAT(error_of("postgresql+asyncpg://u:p@h/db"), HasSubstr("driver suffixes"));
  EXPECT_THAT(error_of("./data/x.db"), HasSubstr("must start with"));
  EXPECT_THAT(error_of("host=h dbname=x"), HasSubstr("must start with"));
}

TEST(UrlPassword, Extracts) {
  EXPECT_EQ(url_password("postgresql://u:pw@h/db"), "pw");
  EXPECT_EQ(url_password("redis://:pw@h"), "pw");
  EXPECT_EQ(url_password("postgresql://h/db?password=pw&x=1"), "pw");
  EXPECT_EQ(url_password("postgresql://u@h/db"), "");
  EXPECT_EQ(url_password("sqlite:///x.db"), "");
}

}  // namespace
}  // namespace kit::config
