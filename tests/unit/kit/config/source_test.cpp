#include "kit/config/source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kit/config/error.hpp"

namespace kit::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Source, EnvironmentWinsOverDotenv) {
  const auto source = Source::from({{"PORT", "9000"}}, "PORT=7000\nHOST=127.0.0.1\n");
  EXPECT_EQ(source.get("PORT"), "9000");
  EXPECT_EQ(source.origin("PORT"), Origin::environment);
  EXPECT_EQ(source.get("HOST"), "127.0.0.1");
  EXPECT_EQ(source.origin("HOST"), Origin::dotenv);
  EXPECT_EQ(source.get("WORKERS"), std::nullopt);
  EXPECT_EQ(source.origin("WORKERS"), std::nullopt);
}

TEST(Source, AnEmptyEnvironmentValueStillWins) {
  // Set-but-empty is a value; typed readers decide what it means (see Reader).
  const auto source = Source::from({{"REDIS_URL", ""}}, "REDIS_URL=redis://h:6379/0\n");
  EXPECT_EQ(source.get("REDIS_URL"), "");
}

TEST(Source, NamesAreCaseInsensitive) {
  const auto source = Source::from({{"log_level", "debug"}}, "Port=1234\n");
  EXPECT_EQ(source.get("LOG_LEVEL"), "debug");
  EXPECT_EQ(source.get("log_level"), "debug");
  EXPECT_EQ(source.get("Log_Level"), "debug");
  EXPECT_EQ(source.get("PORT"), "1234");
  EXPECT_EQ(source.get("port"), "1234");
}

TEST(Source, ExactUppercaseSpellingWinsWithinALayer) {
  EXPECT_EQ(Source::from({{"PORT", "1"}, {"port", "2"}}).get("port"), "1");
  EXPECT_EQ(Source::from({{"port", "2"}, {"PORT", "1"}}).get("PORT"), "1");
  EXPECT_EQ(Source::from({}, "PORT=1\nport=2\n").get("PORT"), "1");
  EXPECT_EQ(Source::from({}, "port=2\nPORT=1\n").get("PORT"), "1");
  // Neither spelling is uppercase: the choice is still deterministic.
  EXPECT_EQ(Source::from({{"Port", "1"}, {"port", "2"}}).get("PORT"), "1");
  EXPECT_EQ(Source::from({}, "port=2\nPort=1\n").get("PORT"), "1");
}

TEST(Source, LowercaseEnvironmentStillWinsOverUppercaseDotenv) {
  EXPECT_EQ(Source::from({{"port", "9"}}, "PORT=1\n").get("PORT"), "9");
}

TEST(Source, LaterDuplicateInDotenvWins) {
  EXPECT_EQ(Source::from({}, "A=1\nA=2\n").get("A"), "2");
}

TEST(Source, MalformedDotenvThrowsWithFileAndLine) {
  try {
    Source::from({}, "A=1\noops\n", "config/.env");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.problems(), ElementsAre("config/.env:2: expected KEY=VALUE"));
    EXPECT_STREQ(e.what(), "config/.env:2: expected KEY=VALUE");
  }
}

// from_environment() reads the real process environment: these tests set and restore
// variables with names no other test uses.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class SourceFromEnvironment : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("kit-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(SourceFromEnvironment, ReadsEnvironAndTheEnvFile) {
  const auto path = write("app.env", "KIT_TEST_FROM_FILE=file\nKIT_TEST_BOTH=file\n");
  ScopedEnv env_file("ENV_FILE", path);
  ScopedEnv both("KIT_TEST_BOTH", "env");
  ScopedEnv lower("kit_test_lower", "lower");
  const auto source = Source::from_environment();
  EXPECT_EQ(source.get("KIT_TEST_FROM_FILE"), "file");
  EXPECT_EQ(source.get("KIT_TEST_BOTH"), "env");
  EXPECT_EQ(source.get("KIT_TEST_LOWER"), "lower");
  EXPECT_EQ(source.dotenv_path(), path);
  EXPECT_TRUE(source.dotenv_found());
}

TEST_F(SourceFromEnvironment, AMissingEnvFileIsFine) {
  ScopedEnv env_file("ENV_FILE", (dir_ / "does-not-exist.env").string());
  ScopedEnv var("KIT_TEST_VAR", "x");
  const auto source = Source::from_environment();
  EXPECT_EQ(source.get("KIT_TEST_VAR"), "x");
  EXPECT_FALSE(source.dotenv_found());
}

TEST_F(SourceFromEnvironment, DefaultsToDotEnvInTheWorkingDirectory) {
  const auto previous = std::filesystem::current_path();
  write(".env", "KIT_TEST_DEFAULT_FILE=yes\n");
  std::filesystem::current_path(dir_);
  ScopedEnv env_file("ENV_FILE", "");
  std::optional<Source> source;
  try {
    source = Source::from_environment();
  } catch (...) {
    std::filesystem::current_path(previous);
    throw;
  }
  std::filesystem::current_path(previous);
  EXPECT_EQ(source->get("KIT_TEST_DEFAULT_FILE"), "yes");
  EXPECT_EQ(source->dotenv_path(), ".env");
}

TEST_F(SourceFromEnvironment, MalformedEnvFileNamesThePathAndLine) {
  const auto path = write("bad.env", "# ok\nA=1\nnot valid\n");
  ScopedEnv env_file("ENV_FILE", path);
  try {
    Source::from_environment();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.problems(), ElementsAre(path + ":3: expected KEY=VALUE"));
  }
}

TEST_F(SourceFromEnvironment, OversizedEnvFileIsRefused) {
  const auto path = write("big.env", std::string(2 * 1024 * 1024, '#'));
  ScopedEnv env_file("ENV_FILE", path);
  try {
    Source::from_environment();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.problems(), ElementsAre(path + ": file is larger than 1 MiB"));
  }
}

TEST_F(SourceFromEnvironment, UnreadableEnvFileIsAnError) {
  // A directory exists but cannot be read as a file.
  ScopedEnv env_file("ENV_FILE", dir_.string());
  try {
    Source::from_environment();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_THAT(e.problems()[0], HasSubstr("ENV_FILE: cannot read"));
  }
}

}  // namespace
}  // namespace kit::config
