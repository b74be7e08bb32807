// End-to-end: the command line (docs/operations.md "Command line and exit codes") and
// configuration errors (docs/configuration.md).
#include <gtest/gtest.h>

#include "support/service_process.hpp"

namespace e2e {
namespace {

TEST(Cli, ProductionConfigErrorsAreAllListedAndSecretsNotEchoed) {
  const auto r = run_command({"check-config"}, {{"PATH", "/usr/bin:/bin"},
                                                {"ENV_FILE", "/nonexistent/.env"},
                                                {"ENVIRONMENT", "production"},
                                                {"PORT", "abc"},
                                                {"JWT_SECRET", "short"}});
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("PORT:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(got 'abc')"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("JWT_SECRET:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("DATABASE_URL:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("short"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("short"), std::string::npos) << r.out;
}

TEST(Cli, ServeWithBadConfigExits78) {
  const auto r = run_command({"serve"}, test_env({{"PORT", "70000"}, {"WORKERS", "0"}}));
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("PORT:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("WORKERS:"), std::string::npos) << r.err;
}

TEST(Cli, MalformedEnvFileNamesFileAndLine) {
  const std::string path = ::testing::TempDir() + "/bad.env";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("# comment\nAPP_NAME=ok\nthis line is wrong\n", f);
  std::fclose(f);
  const auto r = run_command({"check-config"}, {{"PATH", "/usr/bin:/bin"}, {"ENV_FILE", path}});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("bad.env:3"), std::string::npos) << r.err;
}

TEST(Cli, CheckConfigPrintsSettingsWithSecretsMasked) {
  const auto r = run_command(
      {"check-config"},
      test_env({{"DATABASE_URL", "postgresql://app:hunter2-password@127.0.0.1:5432/users"}}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("PORT="), std::string::npos);
  EXPECT_NE(r.out.find("JWT_SECRET="), std::string::npos);
  EXPECT_EQ(r.out.find("e2e-test-secret"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
}

TEST(Cli, VersionAndHelp) {
  const auto v = run_command({"--version"}, test_env());
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find(USER_SERVICE_VERSION), std::string::npos) << v.out;
  const auto h = run_command({"--help"}, test_env());
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("check-config"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("healthcheck"), std::string::npos) << h.out;
}

TEST(Cli, UsageErrorsExit2) {
  EXPECT_EQ(run_command({"no-such-command"}, test_env()).exit_code, 2);
  EXPECT_EQ(run_command({"--no-such-flag"}, test_env()).exit_code, 2);
}

TEST(Cli, HealthcheckProbesTheLocalServer) {
  ServiceProcess svc(test_env());
  const auto url = "http://127.0.0.1:" + std::to_string(svc.port()) + "/health/live";
  EXPECT_EQ(run_command({"healthcheck", "--url", url}, test_env()).exit_code, 0);
  EXPECT_EQ(
      run_command({"healthcheck"}, test_env({{"PORT", std::to_string(svc.port())}})).exit_code, 0);
  svc.signal(SIGTERM);
  ASSERT_EQ(svc.wait_exit(std::chrono::seconds(10)), 0);
  const auto down = run_command({"healthcheck", "--url", url}, test_env());
  EXPECT_EQ(down.exit_code, 1);
}

}  // namespace
}  // namespace e2e
