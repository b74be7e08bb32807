// End-to-end: the service on its two databases (docs/operations.md "Database"): start-up waits for
// PostgreSQL, readiness reports the database without leaking credentials, an outage turns readiness
// 503 and the service recovers by itself; SQLite creates its folder and migrates.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/pg_cluster.hpp"
#include "support/probes.hpp"
#include "support/service_process.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

TEST(Database, ServesOnPostgresWithADatabaseReadinessCheck) {
  ServiceProcess svc(test_env({{"DATABASE_URL", shared_pg_url()}}));
  const auto res = get(svc.port(), "/health/ready");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto doc = parse_json(res.body());
  ASSERT_TRUE(doc["checks"].HasMember("database"));
  EXPECT_EQ(str(doc["checks"]["database"], "status"), "ok");
  EXPECT_TRUE(doc["checks"]["database"]["duration_ms"].IsNumber());
  EXPECT_TRUE(svc.wait_for_line(
      [](const std::string& l) { return l.find("\"database\":\"postgres\"") != std::string::npos; },
      1s));
}

TEST(Database, OutageTurnsReadiness503AndTheServiceRecoversByItself) {
  PgCluster pg;
  ServiceProcess svc(test_env({{"DATABASE_URL", pg.url()},
                               {"DATABASE_POOL_TIMEOUT_SECONDS", "1"},
                               {"DATABASE_POOL_SIZE", "2"}}));
  ASSERT_EQ(get(svc.port(), "/health/ready").result_int(), 200);

  pg.halt();
  const auto down = wait_ready_status(svc.port(), 503, 10s);
  ASSERT_EQ(down.result_int(), 503) << down.body();
  auto doc = parse_json(down.body());
  EXPECT_EQ(str(doc, "status"), "degraded");
  EXPECT_EQ(str(doc["checks"]["database"], "status"), "error");
  EXPECT_NE(str(doc["checks"]["database"], "message"), "<missing>");
  EXPECT_EQ(down.body().find(pg.password()), std::string::npos) << down.body();
  EXPECT_EQ(down.body().find("postgresql://"), std::string::npos) << down.body();
  // Liveness touches no dependency: still 200, and the process is still up.
  EXPECT_EQ(get(svc.port(), "/health/live").result_int(), 200);
  EXPECT_FALSE(svc.wait_exit(0ms));
  // Database-backed requests get the 503 envelope with Retry-After, bounded in time (the pool
  // timeout plus the retry budget of a safe operation), and the process stays up.
  const auto register_body = [](const std::string& email) {
    return R"({"email":")" + email + R"(","name":"Outage","password":"long-enough-pw"})";
  };
  const auto t0 = std::chrono::steady_clock::now();
  const auto refused = request(svc.port(), {"POST",
                                            "/api/v1/users/",
                                            {{"Content-Type", "application/json"}},
                                            register_body("outage-during@example.com")});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(refused.result_int(), 503) << refused.body();
  EXPECT_EQ(str(parse_json(refused.body()), "error"), "SERVICE_UNAVAILABLE");
  EXPECT_FALSE(refused[boost::beast::http::field::retry_after].empty());
  EXPECT_EQ(refused.body().find(pg.password()), std::string::npos);
  EXPECT_LT(took, 10s);
  EXPECT_FALSE(svc.wait_exit(0ms));

  pg.resume();
  const auto up = wait_ready_status(svc.port(), 200, 20s);
  EXPECT_EQ(up.result_int(), 200) << up.body();
  // Recovered without a restart: the same request now succeeds.
  const auto created = request(svc.port(), {"POST",
                                            "/api/v1/users/",
                                            {{"Content-Type", "application/json"}},
                                            register_body("outage-after@example.com")});
  EXPECT_EQ(created.result_int(), 201) << created.body();
  for (const auto& line : svc.lines()) {
    EXPECT_EQ(line.find(pg.password()), std::string::npos) << "password in a log line: " << line;
  }
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait_exit(10s), 0);
}

TEST(Database, StartUpWaitsForPostgresWithBackoff) {
  PgCluster pg;
  pg.halt();
  std::thread resumer([&] {
    std::this_thread::sleep_for(1500ms);
    pg.resume();
  });
  ServiceProcess svc(
      test_env({{"DATABASE_URL", pg.url()}, {"DATABASE_CONNECT_TIMEOUT_SECONDS", "30"}}));
  resumer.join();
  EXPECT_EQ(get(svc.port(), "/health/ready").result_int(), 200);
  bool retried = false;
  for (const auto& line : svc.lines()) {
    retried = retried || line.find("database_connect_retry") != std::string::npos;
    EXPECT_EQ(line.find(pg.password()), std::string::npos) << line;
  }
  EXPECT_TRUE(retried) << "each connection attempt is logged";
}

TEST(Database, StartUpGivesUpAfterTheConnectTimeout) {
  PgCluster pg;
  pg.halt();
  const auto r = run_command(
      {"serve"}, test_env({{"DATABASE_URL", pg.url()}, {"DATABASE_CONNECT_TIMEOUT_SECONDS", "1"}}),
      30s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("startup_failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(pg.password()), std::string::npos);
  EXPECT_EQ(r.err.find(pg.password()), std::string::npos);
}

TEST(Database, MigrateCommandAppliesOnceAndListsStatus) {
  PgCluster pg;
  const auto env = test_env({{"DATABASE_URL", pg.url()}});
  const auto before = run_command({"migrate", "--status"}, env);
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("pending  0001_create_users"), std::string::npos) << before.out;
  const auto first = run_command({"migrate"}, env);
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("applied 0001_create_users"), std::string::npos) << first.out;
  const auto second = run_command({"migrate"}, env);
  EXPECT_EQ(second.exit_code, 0);
  EXPECT_NE(second.out.find("0 migrations applied"), std::string::npos) << second.out;
  const auto after = run_command({"migrate", "--status"}, env);
  EXPECT_NE(after.out.find("applied  0001_create_users"), std::string::npos) << after.out;
}

TEST(Database, SqliteFileDefaultCreatesItsFolderAndMigrates) {
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   ("us-e2e-" + std::to_string(::getpid())) / "nested";
  std::filesystem::remove_all(dir.parent_path());
  const std::string url = "sqlite:///" + (dir / "users.db").string();
  {
    ServiceProcess svc(test_env({{"DATABASE_URL", url}}));
    const auto res = get(svc.port(), "/health/ready");
    EXPECT_EQ(res.result_int(), 200) << res.body();
    svc.signal(SIGTERM);
    EXPECT_EQ(svc.wait_exit(10s), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "users.db"));
  const auto status = run_command({"migrate", "--status"}, test_env({{"DATABASE_URL", url}}));
  EXPECT_NE(status.out.find("applied  0001_create_users"), std::string::npos) << status.out;
  std::filesystem::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace e2e
