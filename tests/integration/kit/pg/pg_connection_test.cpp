// The non-blocking libpq connection: queries, prepared statements, error mapping, deadlines.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "kit/db/errors.hpp"
#include "kit/db/pg/connection.hpp"
#include "kit/db/pg/timestamp.hpp"
#include "tests/support/pg_server.hpp"

namespace {

using namespace pg_test;
using kit::db::QueryError;
using kit::db::UnavailableError;
using kit::db::UniqueViolation;
using kit::db::pg::Connection;
using kit::db::pg::ConnectOptions;
using kit::db::pg::Params;
using kit::db::pg::Result;
using kit::db::pg::Statement;

TEST(PgConnection, QueriesWithParametersAndNulls) {
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    auto conn = co_await connect(server_url());
    const Params params{"41", std::nullopt};
    Result r = co_await conn->query("SELECT $1::int + 1 AS answer, $2::text AS nothing", params);
    EXPECT_EQ(r.rows(), 1);
    EXPECT_EQ(r.columns(), 2);
    EXPECT_EQ(r.column_name(0), "answer");
    EXPECT_EQ(r.column("nothing"), 1);
    EXPECT_EQ(r.get(0, 0), std::optional<std::string_view>{"42"});
    EXPECT_EQ(r.get(0, 1), std::nullopt);
    Result tz = co_await conn->query("SHOW TimeZone");
    EXPECT_EQ(tz.get(0, 0), std::optional<std::string_view>{"UTC"});
    Result app = co_await conn->query("SELECT current_setting('application_name')");
    EXPECT_EQ(app.get(0, 0), std::optional<std::string_view>{"user-service-test"});
  }());
}

TEST(PgConnection, PreparesEachStatementOncePerConnection) {
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    auto conn = co_await connect(server_url());
    const Statement twice{"test_twice", "SELECT $1::int * 2"};
    for (int i = 1; i <= 3; ++i) {
      const Params p{std::to_string(i)};  // named: GCC 12 rejects braced lists in co_await
      Result r = co_await conn->execute(twice, p);
      EXPECT_EQ(r.get(0, 0), std::optional<std::string_view>{std::to_string(i * 2)});
    }
    Result prepared = co_await conn->query(
        "SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_twice'");
    EXPECT_EQ(prepared.get(0, 0), std::optional<std::string_view>{"1"});
    // A statement that fails to prepare is not remembered and does not break the session.
    const Statement bad{"test_bad", "SELEC nonsense"};
    bool failed = false;
    try {
      co_await conn->execute(bad, Params{});
    } catch (const QueryError& e) {
      failed = true;
      EXPECT_EQ(e.sqlstate(), "42601");
    }
    EXPECT_TRUE(failed);
    EXPECT_FALSE(conn->broken());
    const Params p21{"21"};
    Result again = co_await conn->execute(twice, p21);
    EXPECT_EQ(again.get(0, 0), std::optional<std::string_view>{"42"});
  }());
}

TEST(PgConnection, ExecRunsScriptsAndReportsAffectedRows) {
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    auto conn = co_await connect(server_url());
    co_await conn->exec(
        "CREATE TEMP TABLE t (x int CONSTRAINT t_x_key UNIQUE); INSERT INTO t VALUES (1), (2)");
    Result ins = co_await conn->query("INSERT INTO t VALUES (3), (4), (5)");
    EXPECT_EQ(ins.affected_rows(), 3u);
    const Params two{"2"};
    Result upd = co_await conn->query("UPDATE t SET x = x + 10 WHERE x > $1", two);
    EXPECT_EQ(upd.affected_rows(), 3u);
    bool failed = false;
    try {
      co_await conn->exec("SELECT 1; SELECT 1/0; SELECT 2");
    } catch (const QueryError& e) {
      failed = true;
      EXPECT_EQ(e.sqlstate(), "22012");
    }
    EXPECT_TRUE(failed);
    Result count = co_await conn->query("SELECT count(*) FROM t");
    EXPECT_EQ(count.get(0, 0), std::optional<std::string_view>{"5"});
  }());
}

TEST(PgConnection, UniqueViolationCarriesTheConstraintName) {
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    auto conn = co_await connect(server_url());
    co_await conn->exec("CREATE TEMP TABLE u (x int CONSTRAINT u_x_key UNIQUE)");
    const Statement insert{"u_insert", "INSERT INTO u VALUES ($1)"};
    const Params one{"1"};
    co_await conn->execute(insert, one);
    std::string constraint;
    try {
      co_await conn->execute(insert, one);
    } catch (const UniqueViolation& e) {
      constraint = e.constraint();
    }
    EXPECT_EQ(constraint, "u_x_key");
    EXPECT_FALSE(conn->broken());
  }());
}

TEST(PgConnection, StatementTimeoutCancelsLongQueries) {
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    ConnectOptions options;
    options.conninfo = server_url();
    options.statement_timeout = 100ms;
    auto conn = co_await Connection::connect(co_await asio::this_coro::executor, options);
    const auto started = std::chrono::steady_clock::now();
    std::string sqlstate;
    try {
      co_await conn->query("SELECT pg_sleep(3)");
    } catch (const QueryError& e) {
      sqlstate = e.sqlstate();
    }
    EXPECT_EQ(sqlstate, "57014");  // query_canceled
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    Result ok = co_await conn->query("SELECT 1");  // the session survives
    EXPECT_EQ(ok.get(0, 0), std::optional<std::string_view>{"1"});
  }());
}

TEST(PgConnection, ClientDeadlineBreaksTheConnection) {
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    auto conn = co_await connect(server_url());
    bool unavailable = false;
    try {
      const auto deadline = std::chrono::steady_clock::now() + 100ms;
      co_await conn->query("SELECT pg_sleep(3)", Params{}, deadline);
    } catch (const UnavailableError&) {
      unavailable = true;
    }
    EXPECT_TRUE(unavailable);
    EXPECT_TRUE(conn->broken());
  }());
}

TEST(PgConnection, WrongPasswordIsUnavailableAndNeverEchoed) {
  const std::string url = server_url();
  const std::string password = url_password(url);
  ASSERT_FALSE(password.empty());
  std::string bad_url = url;
  const std::string wrong = "Wr0ngSecret" + password.substr(0, 4);
  bad_url.replace(bad_url.find(password), password.size(), wrong);
  asio::io_context ctx;
  try {
    run(ctx, connect(bad_url));
    FAIL() << "connected with a wrong password";
  } catch (const UnavailableError& e) {
    EXPECT_NE(e.internal_reason().find("password authentication failed"), std::string::npos)
        << e.internal_reason();
    EXPECT_EQ(e.internal_reason().find(wrong), std::string::npos) << e.internal_reason();
    EXPECT_EQ(std::string(e.what()).find(wrong), std::string::npos);
  }
  // A malformed connection string is refused without quoting it (it may hold the password).
  try {
    run(ctx, connect("host=127.0.0.1 password=" + wrong + " nonsense"));
    FAIL() << "accepted a malformed connection string";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find(wrong), std::string::npos) << e.what();
  }
}

TEST(PgConnection, RefusedPortFailsFastAsUnavailable) {
  asio::io_context ctx;
  // Bind a port and close it again: nothing listens there now.
  unsigned short port = 0;
  {
    asio::ip::tcp::acceptor probe(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(run(ctx, connect("postgresql://u:secret@127.0.0.1:" + std::to_string(port) + "/db")),
               UnavailableError);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(PgConnection, ConnectTimeoutAppliesToASilentServer) {
  asio::io_context ctx;
  // Accepts TCP connections (the kernel does, via the backlog) but never answers.
  asio::ip::tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = silent.local_endpoint().port();
  ConnectOptions options;
  options.conninfo = "postgresql://u:secret@127.0.0.1:" + std::to_string(port) + "/db";
  options.connect_timeout = 300ms;
  const auto started = std::chrono::steady_clock::now();
  try {
    run(ctx, Connection::connect(ctx.get_executor(), options));
    FAIL() << "connected to a silent server";
  } catch (const UnavailableError& e) {
    EXPECT_EQ(e.internal_reason().find("secret"), std::string::npos);
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
}

TEST(PgConnection, ResolvesHostNamesWithoutBlocking) {
  const std::string url = server_url();
  std::string by_name = url;
  const auto host = by_name.find("127.0.0.1");
  ASSERT_NE(host, std::string::npos);
  by_name.replace(host, 9, "localhost");
  asio::io_context ctx;
  run(ctx, [](std::string u) -> asio::awaitable<void> {
    auto conn = co_await connect(u);
    Result r = co_await conn->query("SELECT 1");
    EXPECT_EQ(r.rows(), 1);
  }(by_name));
}

TEST(PgConnection, LargeResultsArriveCompletely) {
  // Several megabytes: libpq reads the socket in pieces, exercising the edge-triggered waits.
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    auto conn = co_await connect(server_url());
    Result r =
        co_await conn->query("SELECT g, repeat('x', 1000) FROM generate_series(1, 5000) AS g");
    EXPECT_EQ(r.rows(), 5000);
    EXPECT_EQ(r.get(4999, 0), std::optional<std::string_view>{"5000"});
    const Params big{std::string(4 << 20, 'y')};
    Result echo = co_await conn->query("SELECT length($1)", big);
    EXPECT_EQ(echo.get(0, 0), std::optional<std::string_view>{std::to_string(4 << 20)});
  }());
}

TEST(PgTimestamp, FormatsAndParsesMicroseconds) {
  using namespace std::chrono;
  const kit::db::pg::Timestamp t =
      sys_days{year{2024} / 2 / 29} + 23h + 59min + 58s + microseconds{123456};
  EXPECT_EQ(kit::db::pg::format_timestamp(t), "2024-02-29 23:59:58.123456+00");
  EXPECT_EQ(kit::db::pg::parse_timestamp("2024-02-29 23:59:58.123456+00"), t);
  EXPECT_EQ(kit::db::pg::parse_timestamp("2024-02-29 23:59:58.1234+00"), t - microseconds{56});
  EXPECT_EQ(kit::db::pg::parse_timestamp("2024-02-29 23:59:58+00"), t - microseconds{123456});
  EXPECT_EQ(kit::db::pg::parse_timestamp("2024-02-30 00:00:00+00"), std::nullopt);
  EXPECT_EQ(kit::db::pg::parse_timestamp("2024-02-29 23:59:58+02"), std::nullopt);
  EXPECT_EQ(kit::db::pg::parse_timestamp("garbage"), std::nullopt);
}

TEST(PgTimestamp, RoundTripsThroughTheServer) {
  asio::io_context ctx;
  run(ctx, []() -> asio::awaitable<void> {
    using namespace std::chrono;
    auto conn = co_await connect(server_url());
    for (auto t :
         {kit::db::pg::Timestamp{sys_days{year{2001} / 9 / 9} + 1h + 46min + 40s + microseconds{1}},
          time_point_cast<microseconds>(system_clock::now()),
          kit::db::pg::Timestamp{sys_days{year{1969} / 12 / 31} + 23h}}) {
      const Params p{kit::db::pg::format_timestamp(t)};
      Result r = co_await conn->query("SELECT $1::timestamptz", p);
      EXPECT_EQ(kit::db::pg::parse_timestamp(r.get(0, 0).value_or("")), t)
          << r.get(0, 0).value_or("NULL");
    }
  }());
}

}  // namespace
