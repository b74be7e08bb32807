#include "service/settings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kit/config/error.hpp"
#include "kit/security/key_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace user_service {
namespace {

using namespace std::chrono_literals;
using kit::config::ConfigError;
using kit::config::Source;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

using Env = std::map<std::string, std::string>;

const std::string kSecret = "0123456789abcdef0123456789abcdef-prod-secret";  // 44 bytes
const std::string kPostgres = "postgresql://app:db-password@db.internal:5432/users?sslmode=require";

Settings load(Env env, std::string dotenv = {}) {
  return load_settings(Source::from(std::move(env), std::move(dotenv)));
}

// A production environment that passes every guard; tests change one thing at a time.
Env production() {
  return {{"ENVIRONMENT", "production"},
          {"DATABASE_URL", kPostgres},
          {"JWT_SECRET", kSecret},
          {"REDIS_URL", "redis://:redis-password@cache:6379/0"}};
}

Env with(Env env, const std::string& name, const std::string& value) {
  env[name] = value;
  return env;
}

std::vector<std::string> problems_of(Env env, std::string dotenv = {}) {
  try {
    load(std::move(env), std::move(dotenv));
  } catch (const ConfigError& e) {
    return e.problems();
  }
  ADD_FAILURE() << "settings loaded without a problem";
  return {};
}

// The one problem about `name` (fails the test when there is not exactly one).
std::string problem_about(Env env, const std::string& name) {
  const auto problems = problems_of(std::move(env));
  std::vector<std::string> about;
  for (const auto& p : problems)
    if (p.starts_with(name + ": ")) about.push_back(p);
  EXPECT_EQ(about.size(), 1u) << name << " in " << ::testing::PrintToString(problems);
  return about.empty() ? std::string() : about.front();
}

std::string described(const Settings& s, const std::string& name) {
  for (const auto& [key, value] : describe(s))
    if (key == name) return value;
  ADD_FAILURE() << name << " is not described";
  return {};
}

// ---- defaults ---------------------------------------------------------------------------

TEST(Settings, DevelopmentDefaults) {
  const auto s = load({});
  EXPECT_EQ(s.app_name, "User Service");
  EXPECT_EQ(s.app_version, USER_SERVICE_VERSION);
  EXPECT_EQ(s.environment, Environment::development);
  EXPECT_FALSE(s.debug);
  EXPECT_EQ(s.host, "0.0.0.0");
  EXPECT_EQ(s.port, 8000);
  EXPECT_EQ(s.workers, std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
  EXPECT_EQ(s.database_url, "sqlite:///./data/user-service.db");
  EXPECT_EQ(s.database_kind, DatabaseKind::sqlite);
  EXPECT_EQ(s.sqlite_path, "./data/user-service.db");
  EXPECT_EQ(s.database_pool_size, 5u);
  EXPECT_EQ(s.database_pool_max_overflow, 10u);
  EXPECT_EQ(s.database_pool_timeout, 5s);
  EXPECT_EQ(s.database_connect_timeout, 30s);
  EXPECT_EQ(s.database_statement_timeout, 5000ms);
  EXPECT_TRUE(s.migrate_on_start);
  EXPECT_EQ(s.redis_url, "");
  EXPECT_EQ(s.jwt_secret.size(), 64u);  // 32 random bytes, hex
  EXPECT_TRUE(s.jwt_secret_generated);
  EXPECT_EQ(s.jwt_algorithm, JwtAlgorithm::HS256);
  EXPECT_EQ(s.jwt_expiration_minutes, 60u);
  EXPECT_EQ(s.jwt_issuer, "user-service");
  EXPECT_EQ(s.jwt_audience, "user-service");
  EXPECT_EQ(s.password_hash_memory_kib, 19456u);
  EXPECT_EQ(s.password_hash_iterations, 2u);
  EXPECT_THAT(s.cors_allow_origins, ElementsAre("*"));
  EXPECT_FALSE(s.cors_allow_credentials);
  EXPECT_TRUE(s.rate_limit_enabled);
  EXPECT_EQ(s.rate_limit_per_minute, 600u);
  EXPECT_EQ(s.login_rate_limit_per_minute, 10u);
  EXPECT_TRUE(s.rate_limit_fail_open);
  EXPECT_THAT(s.trusted_proxies, IsEmpty());
  EXPECT_EQ(s.max_body_bytes, 1048576u);
  EXPECT_EQ(s.request_timeout, 30s);
  EXPECT_EQ(s.keepalive_timeout, 75s);
  EXPECT_EQ(s.max_connections, 10000u);
  EXPECT_EQ(s.shutdown_delay, 0s);  // development: no load balancer to wait for
  EXPECT_EQ(s.shutdown_grace, 20s);
  EXPECT_EQ(s.log_level, kit::log::Level::info);
  EXPECT_EQ(s.log_format, kit::log::Format::json);
  EXPECT_TRUE(s.metrics_enabled);
  EXPECT_TRUE(s.docs_enabled);
  EXPECT_EQ(s.docs_assets_url, "https://cdn.jsdelivr.net/npm");
  EXPECT_THAT(s.warnings, ElementsAre(HasSubstr("JWT_SECRET is not set"),
                                      HasSubstr("EMAIL_SERVICE_URL and SMTP_URL are not set")));
}

TEST(Settings, GeneratedJwtSecretIsRandomPerLoad) {
  EXPECT_NE(load({}).jwt_secret, load({}).jwt_secret);
}

TEST(Settings, ProductionDefaults) {
  const auto s = load(production());
  EXPECT_EQ(s.environment, Environment::production);
  EXPECT_FALSE(s.migrate_on_start);
  EXPECT_THAT(s.cors_allow_origins, IsEmpty());
  EXPECT_FALSE(s.docs_enabled);
  EXPECT_FALSE(s.jwt_secret_generated);
  EXPECT_EQ(s.jwt_secret, kSecret);
  EXPECT_EQ(s.database_kind, DatabaseKind::postgres);
  EXPECT_EQ(s.sqlite_path, "");
  EXPECT_THAT(s.warnings, ElementsAre(HasSubstr("EMAIL_SERVICE_URL and SMTP_URL are not set")));
}

TEST(Settings, StagingDefaults) {
  auto env = production();
  env["ENVIRONMENT"] = "staging";
  const auto s = load(env);
  EXPECT_EQ(s.environment, Environment::staging);
  EXPECT_FALSE(s.migrate_on_start);
  EXPECT_THAT(s.cors_allow_origins, IsEmpty());
  EXPECT_TRUE(s.docs_enabled);  // only production hides the docs by default
  // Behind a load balancer: the listener stays open while it takes the instance out.
  EXPECT_EQ(s.shutdown_delay, 5s);
  EXPECT_EQ(load(production()).shutdown_delay, 5s);
}

TEST(Settings, EnvironmentIsCaseInsensitive) {
  EXPECT_EQ(load({{"ENVIRONMENT", "Development"}}).environment, Environment::development);
  EXPECT_EQ(load(with(production(), "ENVIRONMENT", "PRODUCTION")).environment,
            Environment::production);
}

TEST(Settings, UnknownEnvironment) {
  EXPECT_EQ(problem_about({{"ENVIRONMENT", "prod"}}, "ENVIRONMENT"),
            "ENVIRONMENT: must be one of development, staging or production (got 'prod')");
}

// ---- sources, precedence, names -----------------------------------------------------------

TEST(Settings, EnvironmentOverDotenvOverDefault) {
  const auto s = load({{"PORT", "9001"}}, "PORT=9002\nWORKERS=3\n");
  EXPECT_EQ(s.port, 9001);
  EXPECT_EQ(s.workers, 3u);
  EXPECT_EQ(s.rate_limit_per_minute, 600u);
}

TEST(Settings, NamesAreCaseInsensitive) {
  const auto s = load({{"port", "9001"}}, "log_level=debug\nApp_Name=Users\n");
  EXPECT_EQ(s.port, 9001);
  EXPECT_EQ(s.log_level, kit::log::Level::debug);
  EXPECT_EQ(s.app_name, "Users");
}

TEST(Settings, UnknownKeysAreIgnored) {
  EXPECT_NO_THROW(load({{"SOMETHING_ELSE", "x"}, {"PATH", "/bin"}}, "NOT_A_SETTING=1\n"));
}

TEST(Settings, ProblemsInTheDotenvFileAreReportedToo) {
  EXPECT_THAT(problems_of({}, "PORT=abc\n"),
              ElementsAre("PORT: must be an integer from 0 to 65535 (got 'abc')"));
}

TEST(Settings, BlankValuesMeanTheDefault) {
  const auto s = load({{"PORT", ""}, {"DEBUG", " "}, {"APP_NAME", ""}});
  EXPECT_EQ(s.port, 8000);
  EXPECT_FALSE(s.debug);
  EXPECT_EQ(s.app_name, "User Service");
}

// ---- each setting -------------------------------------------------------------------------

TEST(Settings, AppNameAndVersion) {
  const auto s = load({{"APP_NAME", "Accounts"}, {"APP_VERSION", "2.0.0-rc1"}});
  EXPECT_EQ(s.app_name, "Accounts");
  EXPECT_EQ(s.app_version, "2.0.0-rc1");
  EXPECT_THAT(problem_about({{"APP_NAME", "a\nb"}}, "APP_NAME"),
              HasSubstr("must not contain control characters"));
}

TEST(Settings, Debug) {
  for (const auto* t : {"true", "1", "yes", "on", "TRUE"}) EXPECT_TRUE(load({{"DEBUG", t}}).debug);
  for (const auto* f : {"false", "0", "no", "off"}) EXPECT_FALSE(load({{"DEBUG", f}}).debug);
  EXPECT_EQ(problem_about({{"DEBUG", "sometimes"}}, "DEBUG"),
            "DEBUG: must be a boolean: true/false, 1/0, yes/no or on/off (got 'sometimes')");
}

TEST(Settings, Host) {
  EXPECT_EQ(load({{"HOST", "127.0.0.1"}}).host, "127.0.0.1");
  EXPECT_EQ(load({{"HOST", "::"}}).host, "::");
  EXPECT_EQ(load({{"HOST", " ::1 "}}).host, "::1");
  for (const auto* bad : {"localhost", "0.0.0.0:80", "256.0.0.1", "example.com"})
    EXPECT_THAT(problem_about({{"HOST", bad}}, "HOST"), HasSubstr("must be an IP address")) << bad;
}

TEST(Settings, Port) {
  EXPECT_EQ(load({{"PORT", "0"}}).port, 0);
  EXPECT_EQ(load({{"PORT", "65535"}}).port, 65535);
  for (const auto* bad : {"65536", "-1", "abc", "80.5", "8000x"})
    EXPECT_EQ(problem_about({{"PORT", bad}}, "PORT"),
              std::string("PORT: must be an integer from 0 to 65535 (got '") + bad + "')");
}

TEST(Settings, Workers) {
  EXPECT_EQ(load({{"WORKERS", "1"}}).workers, 1u);
  EXPECT_EQ(load({{"WORKERS", "256"}}).workers, 256u);
  EXPECT_THAT(problem_about({{"WORKERS", "0"}}, "WORKERS"), HasSubstr("from 1 to 256"));
  EXPECT_THAT(problem_about({{"WORKERS", "257"}}, "WORKERS"), HasSubstr("from 1 to 256"));
}

TEST(Settings, SqliteUrls) {
  auto s = load({{"DATABASE_URL", "sqlite:///relative/path.db"}});
  EXPECT_EQ(s.database_kind, DatabaseKind::sqlite);
  EXPECT_EQ(s.sqlite_path, "relative/path.db");
  EXPECT_EQ(load({{"DATABASE_URL", "sqlite:////abs/path.db"}}).sqlite_path, "/abs/path.db");
  EXPECT_EQ(load({{"DATABASE_URL", "sqlite://:memory:"}}).sqlite_path, ":memory:");
}

TEST(Settings, PostgresUrls) {
  for (const auto* url :
       {"postgresql://u:p@h:5432/db", "postgres://u:p@h/db?sslmode=verify-full"}) {
    const auto s = load({{"DATABASE_URL", url}});
    EXPECT_EQ(s.database_kind, DatabaseKind::postgres) << url;
    EXPECT_EQ(s.database_url, url);
  }
}

TEST(Settings, BadDatabaseUrlIsMaskedInTheProblem) {
  const auto p =
      problem_about({{"DATABASE_URL", "postgresql://u:hunter2@h:99999/db"}}, "DATABASE_URL");
  EXPECT_THAT(p, HasSubstr("port"));
  EXPECT_THAT(p, HasSubstr("(got 'postgresql://u:***@h:99999/db')"));
  EXPECT_THAT(p, Not(HasSubstr("hunter2")));
  const auto q = problem_about({{"DATABASE_URL", "mysql://u:hunter2@h/db"}}, "DATABASE_URL");
  EXPECT_THAT(q, Not(HasSubstr("hunter2")));
  const auto r =
      problem_about({{"DATABASE_URL", "postgresql://u:hun%zzter2@h/db"}}, "DATABASE_URL");
  EXPECT_THAT(r, Not(HasSubstr("hun%zz")));
}

TEST(Settings, DatabaseUrlRequiredOutsideDevelopment) {
  for (const auto* environment : {"staging", "production"}) {
    auto env = production();
    env["ENVIRONMENT"] = environment;
    env.erase("DATABASE_URL");
    EXPECT_EQ(
        problem_about(env, "DATABASE_URL"),
        std::string("DATABASE_URL: is required when ENVIRONMENT=") + environment + " (not set)");
  }
}

TEST(Settings, DatabasePool) {
  const auto s = load({{"DATABASE_POOL_SIZE", "20"},
                       {"DATABASE_POOL_MAX_OVERFLOW", "0"},
                       {"DATABASE_POOL_TIMEOUT_SECONDS", "2.5"},
                       {"DATABASE_CONNECT_TIMEOUT_SECONDS", "60"},
                       {"DATABASE_STATEMENT_TIMEOUT_MS", "0"}});
  EXPECT_EQ(s.database_pool_size, 20u);
  EXPECT_EQ(s.database_pool_max_overflow, 0u);
  EXPECT_EQ(s.database_pool_timeout, 2500ms);
  EXPECT_EQ(s.database_connect_timeout, 60s);
  EXPECT_EQ(s.database_statement_timeout, 0ms);

  EXPECT_THAT(problem_about({{"DATABASE_POOL_SIZE", "0"}}, "DATABASE_POOL_SIZE"),
              HasSubstr("from 1 to 1000"));
  EXPECT_THAT(problem_about({{"DATABASE_POOL_SIZE", "1001"}}, "DATABASE_POOL_SIZE"),
              HasSubstr("from 1 to 1000"));
  EXPECT_THAT(problem_about({{"DATABASE_POOL_MAX_OVERFLOW", "-1"}}, "DATABASE_POOL_MAX_OVERFLOW"),
              HasSubstr("from 0 to 1000"));
  EXPECT_THAT(
      problem_about({{"DATABASE_POOL_TIMEOUT_SECONDS", "0"}}, "DATABASE_POOL_TIMEOUT_SECONDS"),
      HasSubstr("greater than 0"));
  EXPECT_THAT(problem_about({{"DATABASE_CONNECT_TIMEOUT_SECONDS", "-5"}},
                            "DATABASE_CONNECT_TIMEOUT_SECONDS"),
              HasSubstr("greater than 0"));
  EXPECT_THAT(
      problem_about({{"DATABASE_STATEMENT_TIMEOUT_MS", "1.5"}}, "DATABASE_STATEMENT_TIMEOUT_MS"),
      HasSubstr("whole number of milliseconds"));
  EXPECT_THAT(
      problem_about({{"DATABASE_STATEMENT_TIMEOUT_MS", "-1"}}, "DATABASE_STATEMENT_TIMEOUT_MS"),
      HasSubstr("at least 0"));
}

TEST(Settings, MigrateOnStart) {
  EXPECT_FALSE(load({{"MIGRATE_ON_START", "false"}}).migrate_on_start);
  EXPECT_TRUE(load(with(production(), "MIGRATE_ON_START", "true")).migrate_on_start);
  EXPECT_THAT(problem_about({{"MIGRATE_ON_START", "x"}}, "MIGRATE_ON_START"), HasSubstr("boolean"));
}

TEST(Settings, RedisUrl) {
  EXPECT_EQ(load({{"REDIS_URL", "redis://localhost:6379/0"}}).redis_url,
            "redis://localhost:6379/0");
  EXPECT_EQ(load({{"REDIS_URL", ""}}).redis_url, "");
  const auto p = problem_about({{"REDIS_URL", "redis://:hunter2@h:notaport/0"}}, "REDIS_URL");
  EXPECT_THAT(p, HasSubstr("port"));
  EXPECT_THAT(p, HasSubstr("redis://:***@h:notaport/0"));
  EXPECT_THAT(p, Not(HasSubstr("hunter2")));
  const auto q = problem_about({{"REDIS_URL", "redis://hunter2@h:6379/0"}}, "REDIS_URL");
  EXPECT_THAT(q, HasSubstr("user:password@"));
}

TEST(Settings, JwtSecret) {
  const auto s = load({{"JWT_SECRET", kSecret}});
  EXPECT_EQ(s.jwt_secret, kSecret);
  EXPECT_FALSE(s.jwt_secret_generated);
  EXPECT_THAT(s.warnings, Not(Contains(HasSubstr("JWT_SECRET"))));
  EXPECT_EQ(load({{"JWT_SECRET", std::string(32, 'k')}}).jwt_secret, std::string(32, 'k'));
}

TEST(Settings, ShortJwtSecretIsRefusedEverywhereWithoutEchoingIt) {
  EXPECT_EQ(problem_about({{"JWT_SECRET", "short"}}, "JWT_SECRET"),
            "JWT_SECRET: must be at least 32 bytes (got a 5-byte value)");
  EXPECT_EQ(problem_about(with(production(), "JWT_SECRET", std::string(31, 'k')), "JWT_SECRET"),
            "JWT_SECRET: must be at least 32 bytes (got a 31-byte value)");
}

TEST(Settings, JwtSecretRequiredOutsideDevelopment) {
  for (const auto* environment : {"staging", "production"}) {
    auto env = production();
    env["ENVIRONMENT"] = environment;
    env.erase("JWT_SECRET");
    EXPECT_EQ(
        problem_about(env, "JWT_SECRET"),
        std::string("JWT_SECRET: is required when ENVIRONMENT=") + environment + " (not set)");
  }
}

TEST(Settings, JwtClaims) {
  const auto s = load({{"JWT_ALGORITHM", "hs512"},
                       {"JWT_EXPIRATION_MINUTES", "43200"},
                       {"JWT_ISSUER", "https://auth.example.com"},
                       {"JWT_AUDIENCE", "api"}});
  EXPECT_EQ(s.jwt_algorithm, JwtAlgorithm::HS512);
  EXPECT_EQ(s.jwt_expiration_minutes, 43200u);
  EXPECT_EQ(s.jwt_issuer, "https://auth.example.com");
  EXPECT_EQ(s.jwt_audience, "api");
  EXPECT_EQ(load({{"JWT_ALGORITHM", "HS384"}}).jwt_algorithm, JwtAlgorithm::HS384);
  EXPECT_EQ(problem_about({{"JWT_ALGORITHM", "RS256"}}, "JWT_ALGORITHM"),
            "JWT_ALGORITHM: must be one of HS256, HS384, HS512, EdDSA or ES256 (got 'RS256')");
  EXPECT_THAT(problem_about({{"JWT_ALGORITHM", "none"}}, "JWT_ALGORITHM"), HasSubstr("one of"));
  EXPECT_THAT(problem_about({{"JWT_EXPIRATION_MINUTES", "0"}}, "JWT_EXPIRATION_MINUTES"),
              HasSubstr("from 1 to 43200"));
  EXPECT_THAT(problem_about({{"JWT_EXPIRATION_MINUTES", "43201"}}, "JWT_EXPIRATION_MINUTES"),
              HasSubstr("from 1 to 43200"));
}

TEST(Settings, PasswordHashingBounds) {
  const auto s = load({{"PASSWORD_HASH_MEMORY_KIB", "8"}, {"PASSWORD_HASH_ITERATIONS", "1"}});
  EXPECT_EQ(s.password_hash_memory_kib, 8u);  // tests may lower the cost
  EXPECT_EQ(s.password_hash_iterations, 1u);
  EXPECT_EQ(load({{"PASSWORD_HASH_MEMORY_KIB", "4194304"}}).password_hash_memory_kib, 4194304u);
  EXPECT_THAT(problem_about({{"PASSWORD_HASH_MEMORY_KIB", "7"}}, "PASSWORD_HASH_MEMORY_KIB"),
              HasSubstr("from 8 to 4194304"));
  EXPECT_THAT(problem_about({{"PASSWORD_HASH_MEMORY_KIB", "4194305"}}, "PASSWORD_HASH_MEMORY_KIB"),
              HasSubstr("from 8 to 4194304"));
  EXPECT_THAT(problem_about({{"PASSWORD_HASH_ITERATIONS", "0"}}, "PASSWORD_HASH_ITERATIONS"),
              HasSubstr("from 1 to 100"));
  EXPECT_THAT(problem_about({{"PASSWORD_HASH_ITERATIONS", "101"}}, "PASSWORD_HASH_ITERATIONS"),
              HasSubstr("from 1 to 100"));
}

TEST(Settings, CorsOrigins) {
  const auto s = load({{"CORS_ALLOW_ORIGINS", "https://app.example.com, http://LOCALHOST:3000"},
                       {"CORS_ALLOW_CREDENTIALS", "true"}});
  EXPECT_THAT(s.cors_allow_origins,
              ElementsAre("https://app.example.com", "http://localhost:3000"));
  EXPECT_TRUE(s.cors_allow_credentials);
  EXPECT_THAT(load({{"CORS_ALLOW_ORIGINS", ""}}).cors_allow_origins, IsEmpty());  // CORS off
  EXPECT_THAT(load({{"CORS_ALLOW_ORIGINS", "*"}}).cors_allow_origins, ElementsAre("*"));
}

TEST(Settings, CorsOriginMistakes) {
  EXPECT_THAT(
      problem_about({{"CORS_ALLOW_ORIGINS", "https://app.example.com/"}}, "CORS_ALLOW_ORIGINS"),
      HasSubstr("without a path or trailing slash"));
  EXPECT_THAT(problem_about({{"CORS_ALLOW_ORIGINS", "app.example.com"}}, "CORS_ALLOW_ORIGINS"),
              HasSubstr("is not an origin"));
  EXPECT_THAT(problem_about({{"CORS_ALLOW_ORIGINS", "*,https://a.example"}}, "CORS_ALLOW_ORIGINS"),
              HasSubstr("'*' cannot be combined"));
}

TEST(Settings, CorsWildcardWithCredentialsIsRefusedEverywhere) {
  EXPECT_EQ(problem_about({{"CORS_ALLOW_ORIGINS", "*"}, {"CORS_ALLOW_CREDENTIALS", "true"}},
                          "CORS_ALLOW_ORIGINS"),
            "CORS_ALLOW_ORIGINS: '*' cannot be used with CORS_ALLOW_CREDENTIALS=true; list the "
            "allowed origins (got '*')");
  // The development default is '*' too.
  EXPECT_THAT(problem_about({{"CORS_ALLOW_CREDENTIALS", "true"}}, "CORS_ALLOW_ORIGINS"),
              AllOf(HasSubstr("development default '*'"), HasSubstr("(not set)")));
  auto staging = with(production(), "ENVIRONMENT", "staging");
  staging["CORS_ALLOW_ORIGINS"] = "*";
  staging["CORS_ALLOW_CREDENTIALS"] = "yes";
  EXPECT_THAT(problem_about(staging, "CORS_ALLOW_ORIGINS"), HasSubstr("cannot be used with"));
}

TEST(Settings, RateLimits) {
  const auto s = load({{"RATE_LIMIT_ENABLED", "off"},
                       {"RATE_LIMIT_PER_MINUTE", "100"},
                       {"LOGIN_RATE_LIMIT_PER_MINUTE", "3"},
                       {"RATE_LIMIT_FAIL_OPEN", "false"}});
  EXPECT_FALSE(s.rate_limit_enabled);
  EXPECT_EQ(s.rate_limit_per_minute, 100u);
  EXPECT_EQ(s.login_rate_limit_per_minute, 3u);
  EXPECT_FALSE(s.rate_limit_fail_open);
  EXPECT_THAT(problem_about({{"RATE_LIMIT_PER_MINUTE", "0"}}, "RATE_LIMIT_PER_MINUTE"),
              HasSubstr("from 1 to"));
  EXPECT_THAT(problem_about({{"LOGIN_RATE_LIMIT_PER_MINUTE", "0"}}, "LOGIN_RATE_LIMIT_PER_MINUTE"),
              HasSubstr("from 1 to"));
  EXPECT_THAT(problem_about({{"RATE_LIMIT_FAIL_OPEN", "2"}}, "RATE_LIMIT_FAIL_OPEN"),
              HasSubstr("boolean"));
}

TEST(Settings, TrustedProxies) {
  const auto s = load({{"TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1, ::1, fd00::/8"}});
  ASSERT_EQ(s.trusted_proxies.size(), 4u);
  EXPECT_EQ(s.trusted_proxies[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(s.trusted_proxies[1].to_string(), "127.0.0.1/32");
  EXPECT_TRUE(s.trusted_proxies[0].contains(boost::asio::ip::make_address("::ffff:10.2.3.4")));
  EXPECT_EQ(described(s, "TRUSTED_PROXIES"), "10.0.0.0/8,127.0.0.1/32,::1/128,fd00::/8");
}

TEST(Settings, EveryBadTrustedProxyIsReported) {
  const auto problems = problems_of({{"TRUSTED_PROXIES", "10.0.0.0/8,proxy.local,10.0.0.0/33,*"}});
  EXPECT_THAT(problems, ElementsAre(HasSubstr("'proxy.local' is not an IP address or CIDR"),
                                    HasSubstr("'10.0.0.0/33' is not an IP address or CIDR"),
                                    HasSubstr("'*' is not accepted: write 0.0.0.0/0,::/0")));
}

TEST(Settings, HttpLimits) {
  const auto s = load({{"MAX_BODY_BYTES", "1"},
                       {"REQUEST_TIMEOUT_SECONDS", "0.5"},
                       {"KEEPALIVE_TIMEOUT_SECONDS", "5"},
                       {"MAX_CONNECTIONS", "1"},
                       {"SHUTDOWN_DELAY_SECONDS", "2.5"},
                       {"SHUTDOWN_GRACE_SECONDS", "0"}});
  EXPECT_EQ(s.max_body_bytes, 1u);
  EXPECT_EQ(s.request_timeout, 500ms);
  EXPECT_EQ(s.keepalive_timeout, 5s);
  EXPECT_EQ(s.max_connections, 1u);
  EXPECT_EQ(s.shutdown_delay, 2500ms);
  EXPECT_EQ(s.shutdown_grace, 0ms);
  EXPECT_THAT(problem_about({{"SHUTDOWN_DELAY_SECONDS", "-1"}}, "SHUTDOWN_DELAY_SECONDS"),
              HasSubstr("at least 0"));
  EXPECT_THAT(problem_about({{"MAX_BODY_BYTES", "0"}}, "MAX_BODY_BYTES"), HasSubstr("from 1 to"));
  EXPECT_THAT(problem_about({{"REQUEST_TIMEOUT_SECONDS", "0"}}, "REQUEST_TIMEOUT_SECONDS"),
              HasSubstr("greater than 0"));
  EXPECT_THAT(problem_about({{"KEEPALIVE_TIMEOUT_SECONDS", "abc"}}, "KEEPALIVE_TIMEOUT_SECONDS"),
              HasSubstr("number of seconds"));
  EXPECT_THAT(problem_about({{"MAX_CONNECTIONS", "0"}}, "MAX_CONNECTIONS"), HasSubstr("from 1 to"));
  EXPECT_THAT(problem_about({{"SHUTDOWN_GRACE_SECONDS", "-1"}}, "SHUTDOWN_GRACE_SECONDS"),
              HasSubstr("at least 0"));
  EXPECT_THAT(problem_about({{"REQUEST_TIMEOUT_SECONDS", "86401"}}, "REQUEST_TIMEOUT_SECONDS"),
              HasSubstr("at most 86400"));
}

TEST(Settings, Logging) {
  const auto s = load({{"LOG_LEVEL", "WARNING"}, {"LOG_FORMAT", "Console"}});
  EXPECT_EQ(s.log_level, kit::log::Level::warning);
  EXPECT_EQ(s.log_format, kit::log::Format::console);
  EXPECT_EQ(problem_about({{"LOG_LEVEL", "verbose"}}, "LOG_LEVEL"),
            "LOG_LEVEL: must be one of debug, info, warning or error (got 'verbose')");
  EXPECT_EQ(problem_about({{"LOG_FORMAT", "xml"}}, "LOG_FORMAT"),
            "LOG_FORMAT: must be json or console (got 'xml')");
}

TEST(Settings, MetricsAndDocs) {
  const auto s = load({{"METRICS_ENABLED", "false"}, {"DOCS_ENABLED", "no"}});
  EXPECT_FALSE(s.metrics_enabled);
  EXPECT_FALSE(s.docs_enabled);
  EXPECT_TRUE(load(with(production(), "DOCS_ENABLED", "true")).docs_enabled);
}

TEST(Settings, DocsAssetsUrl) {
  EXPECT_EQ(load({{"DOCS_ASSETS_URL", "/static/"}}).docs_assets_url, "/static");
  EXPECT_EQ(load({{"DOCS_ASSETS_URL", "https://assets.internal/npm/"}}).docs_assets_url,
            "https://assets.internal/npm");
  for (const auto* bad :
       {"ftp://x", "static", "//cdn.example", "https://x/\"><script>", "https://a b"})
    EXPECT_THAT(problem_about({{"DOCS_ASSETS_URL", bad}}, "DOCS_ASSETS_URL"),
                HasSubstr("http(s) URL or an absolute path"))
        << bad;
}

// ---- production guards ----------------------------------------------------------------------

TEST(Settings, ProductionRefusesDebug) {
  EXPECT_EQ(problem_about(with(production(), "DEBUG", "true"), "DEBUG"),
            "DEBUG: must be false in production (got 'true')");
  EXPECT_NO_THROW(load(with(with(production(), "ENVIRONMENT", "staging"), "DEBUG", "true")));
}

TEST(Settings, ProductionRefusesWildcardCors) {
  EXPECT_EQ(problem_about(with(production(), "CORS_ALLOW_ORIGINS", "*"), "CORS_ALLOW_ORIGINS"),
            "CORS_ALLOW_ORIGINS: '*' is refused in production; list the allowed origins (got '*')");
  EXPECT_THAT(
      load(with(production(), "CORS_ALLOW_ORIGINS", "https://app.example.com")).cors_allow_origins,
      ElementsAre("https://app.example.com"));
}

TEST(Settings, ProductionRefusesCheaperPasswordHashing) {
  EXPECT_EQ(problem_about(with(production(), "PASSWORD_HASH_MEMORY_KIB", "19455"),
                          "PASSWORD_HASH_MEMORY_KIB"),
            "PASSWORD_HASH_MEMORY_KIB: must be at least 19456 in production (got '19455')");
  EXPECT_EQ(problem_about(with(production(), "PASSWORD_HASH_ITERATIONS", "1"),
                          "PASSWORD_HASH_ITERATIONS"),
            "PASSWORD_HASH_ITERATIONS: must be at least 2 in production (got '1')");
  const auto s = load(with(with(production(), "PASSWORD_HASH_MEMORY_KIB", "65536"),
                           "PASSWORD_HASH_ITERATIONS", "3"));
  EXPECT_EQ(s.password_hash_memory_kib, 65536u);
  EXPECT_EQ(s.password_hash_iterations, 3u);
}

TEST(Settings, ProductionWarnsAboutSqliteAndMissingRedis) {
  auto env = production();
  env["DATABASE_URL"] = "sqlite:////var/lib/user-service/users.db";
  env.erase("REDIS_URL");
  const auto s = load(env);
  EXPECT_THAT(s.warnings, UnorderedElementsAre(HasSubstr("DATABASE_URL is SQLite in production"),
                                               HasSubstr("REDIS_URL is empty in production"),
                                               HasSubstr("SMTP_URL are not set")));
}

TEST(Settings, NoSuchWarningsOutsideProduction) {
  const auto s = load({{"JWT_SECRET", kSecret}, {"DATABASE_URL", "sqlite://:memory:"}});
  EXPECT_THAT(s.warnings, ElementsAre(HasSubstr("EMAIL_SERVICE_URL and SMTP_URL are not set")));
}

// ---- all problems at once, secrets never shown --------------------------------------------

TEST(Settings, AllProblemsAreReportedTogether) {
  const auto problems =
      problems_of({{"ENVIRONMENT", "production"}, {"PORT", "abc"}, {"JWT_SECRET", "short"}});
  EXPECT_THAT(problems, UnorderedElementsAre(
                            "PORT: must be an integer from 0 to 65535 (got 'abc')",
                            "DATABASE_URL: is required when ENVIRONMENT=production (not set)",
                            "JWT_SECRET: must be at least 32 bytes (got a 5-byte value)"));
  for (const auto& p : problems) EXPECT_THAT(p, Not(HasSubstr("'short'")));
}

TEST(Settings, ManyProblemsFromBothSources) {
  const auto problems =
      problems_of({{"ENVIRONMENT", "production"}, {"DEBUG", "1"}, {"CORS_ALLOW_ORIGINS", "*"}},
                  "WORKERS=0\nLOG_LEVEL=loud\nPASSWORD_HASH_ITERATIONS=1\nMAX_BODY_BYTES=-5\n");
  const std::vector<std::string> names = {"DEBUG",
                                          "WORKERS",
                                          "DATABASE_URL",
                                          "JWT_SECRET",
                                          "PASSWORD_HASH_ITERATIONS",
                                          "CORS_ALLOW_ORIGINS",
                                          "MAX_BODY_BYTES",
                                          "LOG_LEVEL"};
  for (const auto& name : names) EXPECT_THAT(problems, Contains(HasSubstr(name + ": "))) << name;
  EXPECT_EQ(problems.size(), names.size());
}

TEST(Settings, ErrorMessageListsEveryProblemOnePerLine) {
  try {
    load({{"PORT", "x"}, {"WORKERS", "y"}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "PORT: must be an integer from 0 to 65535 (got 'x')\n"
                 "WORKERS: must be an integer from 1 to 256 (got 'y')");
  }
}

TEST(Settings, SecretsNeverAppearInAnyProblem) {
  const std::string secret = "tiny-secret";
  const auto problems = problems_of({{"ENVIRONMENT", "production"},
                                     {"JWT_SECRET", secret},
                                     {"DATABASE_URL", "postgresql://u:db-pass-123@h:0/db"},
                                     {"REDIS_URL", "redis://:redis-pass-456@h:99999/0"}});
  EXPECT_EQ(problems.size(), 3u);
  for (const auto& p : problems) {
    EXPECT_THAT(p, Not(HasSubstr(secret)));
    EXPECT_THAT(p, Not(HasSubstr("db-pass-123")));
    EXPECT_THAT(p, Not(HasSubstr("redis-pass-456")));
  }
}

// ---- describe() -------------------------------------------------------------------------------

TEST(Settings, DescribeListsEverySettingInOrder) {
  const auto d = describe(load({}));
  std::vector<std::string> names;
  for (const auto& [name, value] : d) names.push_back(name);
  EXPECT_THAT(
      names,
      ElementsAre("APP_NAME", "APP_VERSION", "ENVIRONMENT", "DEBUG", "HOST", "PORT", "WORKERS",
                  "DATABASE_URL", "DATABASE_POOL_SIZE", "DATABASE_POOL_MAX_OVERFLOW",
                  "DATABASE_POOL_TIMEOUT_SECONDS", "DATABASE_CONNECT_TIMEOUT_SECONDS",
                  "DATABASE_STATEMENT_TIMEOUT_MS", "MIGRATE_ON_START", "REDIS_URL", "JWT_SECRET",
                  "JWT_ALGORITHM", "JWT_SIGNING_KEYS", "JWT_EXPIRATION_MINUTES", "JWT_ISSUER",
                  "JWT_AUDIENCE", "REFRESH_TOKEN_TTL_DAYS", "SESSION_MAX_AGE_DAYS",
                  "REFRESH_REUSE_GRACE_SECONDS", "PASSWORD_HASH_MEMORY_KIB",
                  "PASSWORD_HASH_ITERATIONS", "CORS_ALLOW_ORIGINS", "CORS_ALLOW_CREDENTIALS",
                  "RATE_LIMIT_ENABLED", "RATE_LIMIT_PER_MINUTE", "LOGIN_RATE_LIMIT_PER_MINUTE",
                  "RATE_LIMIT_FAIL_OPEN", "TRUSTED_PROXIES", "MAX_BODY_BYTES",
                  "REQUEST_TIMEOUT_SECONDS", "KEEPALIVE_TIMEOUT_SECONDS", "MAX_CONNECTIONS",
                  "SHUTDOWN_DELAY_SECONDS", "SHUTDOWN_GRACE_SECONDS", "LOG_LEVEL", "LOG_FORMAT",
                  "METRICS_ENABLED", "DOCS_ENABLED", "DOCS_ASSETS_URL", "PUBLIC_BASE_URL",
                  "EMAIL_SERVICE_URL", "SMTP_URL", "SMTP_REQUIRE_TLS", "EMAIL_FROM",
                  "REQUIRE_VERIFIED_EMAIL", "WEBHOOK_URLS", "WEBHOOK_SECRET",
                  "OUTBOX_MAX_AGE_HOURS", "OTEL_EXPORTER_OTLP_ENDPOINT",
                  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
                  "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
                  "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_BSP_SCHEDULE_DELAY"));
}

TEST(Settings, DescribeShowsEffectiveValues) {
  const auto s = load({{"DATABASE_POOL_TIMEOUT_SECONDS", "2.5"}, {"LOG_FORMAT", "console"}});
  EXPECT_EQ(described(s, "ENVIRONMENT"), "development");
  EXPECT_EQ(described(s, "PORT"), "8000");
  EXPECT_EQ(described(s, "DATABASE_URL"), "sqlite:///./data/user-service.db");
  EXPECT_EQ(described(s, "DATABASE_POOL_TIMEOUT_SECONDS"), "2.5");
  EXPECT_EQ(described(s, "DATABASE_STATEMENT_TIMEOUT_MS"), "5000");
  EXPECT_EQ(described(s, "MIGRATE_ON_START"), "true");
  EXPECT_EQ(described(s, "CORS_ALLOW_ORIGINS"), "*");
  EXPECT_EQ(described(s, "JWT_ALGORITHM"), "HS256");
  EXPECT_EQ(described(s, "LOG_LEVEL"), "info");
  EXPECT_EQ(described(s, "LOG_FORMAT"), "console");
  EXPECT_EQ(described(s, "REDIS_URL"), "");
  EXPECT_EQ(described(s, "TRUSTED_PROXIES"), "");
}

TEST(Settings, DescribeMasksSecrets) {
  const auto s = load(production());
  const auto d = describe(s);
  EXPECT_EQ(described(s, "JWT_SECRET"), "***");
  EXPECT_EQ(described(s, "DATABASE_URL"),
            "postgresql://app:***@db.internal:5432/users?sslmode=require");
  EXPECT_EQ(described(s, "REDIS_URL"), "redis://:***@cache:6379/0");
  for (const auto& [name, value] : d) {
    EXPECT_THAT(value, Not(HasSubstr(kSecret))) << name;
    EXPECT_THAT(value, Not(HasSubstr("db-password"))) << name;
    EXPECT_THAT(value, Not(HasSubstr("redis-password"))) << name;
  }
  const auto generated = load({});
  EXPECT_EQ(described(generated, "JWT_SECRET"), "***");
  for (const auto& [name, value] : describe(generated))
    EXPECT_THAT(value, Not(HasSubstr(generated.jwt_secret))) << name;
}

// ---- .env.example -------------------------------------------------------------------------

std::string read_env_example() {
  // The source folder from CMake: __FILE__ may be relative (ccache's base_dir rewrites it).
  const std::filesystem::path root = USER_SERVICE_SOURCE_DIR;
  std::ifstream in(root / ".env.example", std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << (root / ".env.example");
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(Settings, EnvExampleDocumentsEverySetting) {
  const auto example = read_env_example();
  for (const auto& [name, value] : describe(load({}))) {
    // Either set to its default or, when the default depends on the host or the environment,
    // shown commented out.
    const bool documented = example.find("\n" + name + "=") != std::string::npos ||
                            example.find("\n#" + name + "=") != std::string::npos;
    EXPECT_TRUE(documented) << name << " is not in .env.example";
  }
}

TEST(Settings, EnvExampleLoadsAsIs) {
  const auto s = load_settings(Source::from({}, read_env_example(), ".env.example"));
  EXPECT_EQ(s.environment, Environment::development);
  EXPECT_EQ(s.port, 8000);
}

TEST(Settings, ToString) {
  EXPECT_EQ(to_string(Environment::development), "development");
  EXPECT_EQ(to_string(Environment::staging), "staging");
  EXPECT_EQ(to_string(Environment::production), "production");
  EXPECT_EQ(to_string(JwtAlgorithm::HS256), "HS256");
  EXPECT_EQ(to_string(JwtAlgorithm::HS384), "HS384");
  EXPECT_EQ(to_string(JwtAlgorithm::HS512), "HS512");
  EXPECT_EQ(to_string(DatabaseKind::sqlite), "sqlite");
  EXPECT_EQ(to_string(DatabaseKind::postgres), "postgres");
}

// ---- signing keys (EdDSA, ES256) and PUBLIC_BASE_URL ----------------------------------------

using kit::security::KeyType;
using kit::security::SigningKey;

// Key files written like `user-service keys generate` does (mode 0600) in a fresh folder.
class KeyFiles {
 public:
  std::string add(const std::string& name, KeyType type) {
    const auto path = dir_.file(name);
    kit::security::write_key_file(path, SigningKey::generate(type));
    return path;
  }
  std::string kid_of(const std::string& path) { return kit::security::read_key_file(path).kid(); }

 private:
  sqlite_test::TempDir dir_;
};

Env public_key_production(const std::string& algorithm, const std::string& files) {
  Env env = production();
  env.erase("JWT_SECRET");
  env["JWT_ALGORITHM"] = algorithm;
  if (!files.empty()) env["JWT_SIGNING_KEYS"] = files;
  return env;
}

TEST(Settings, SigningKeysLoadInOrderWithoutAJwtSecret) {
  KeyFiles files;
  const auto a = files.add("a.pem", KeyType::ed25519);
  const auto b = files.add("b.pem", KeyType::ed25519);
  const auto s = load(public_key_production("EdDSA", a + "," + b));
  ASSERT_EQ(s.jwt_signing_keys.size(), 2u);
  EXPECT_EQ(s.jwt_signing_keys[0]->kid(), files.kid_of(a));
  EXPECT_EQ(s.jwt_signing_keys[1]->kid(), files.kid_of(b));
  EXPECT_TRUE(s.jwt_secret.empty());
  EXPECT_FALSE(s.jwt_signing_key_generated);
  EXPECT_EQ(described(s, "JWT_SIGNING_KEYS"),
            a + " (kid " + files.kid_of(a) + ")," + b + " (kid " + files.kid_of(b) + ")");
}

TEST(Settings, ProductionListsEverySigningKeyProblemAtOnce) {
  KeyFiles files;
  const auto open = files.add("open.pem", KeyType::p256);
  std::filesystem::permissions(open, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  const auto ed = files.add("ed.pem", KeyType::ed25519);
  const auto good = files.add("good.pem", KeyType::p256);
  const auto missing = good + ".missing";
  const auto problems = problems_of(
      public_key_production("ES256", open + "," + ed + "," + missing + "," + good + "," + good));
  EXPECT_THAT(problems,
              ElementsAre(HasSubstr("'" + open + "' is readable by group or others (mode 0640)"),
                          HasSubstr("'" + ed +
                                    "' holds an Ed25519 key; JWT_ALGORITHM=ES256 "
                                    "signs with P-256 keys"),
                          HasSubstr("'" + missing + "' cannot be opened"),
                          HasSubstr("'" + good + "' holds a key listed before it")));
  for (const auto& p : problems) EXPECT_THAT(p, Not(HasSubstr("PRIVATE KEY")));
}

TEST(Settings, PublicKeyAlgorithmsRequireKeyFilesOutsideDevelopment) {
  EXPECT_EQ(problem_about(public_key_production("EdDSA", ""), "JWT_SIGNING_KEYS"),
            "JWT_SIGNING_KEYS: is required when JWT_ALGORITHM=EdDSA and ENVIRONMENT=production: "
            "list PEM private-key files (user-service keys generate) (not set)");
  Env staging = public_key_production("ES256", "");
  staging["ENVIRONMENT"] = "staging";
  EXPECT_THAT(problem_about(staging, "JWT_SIGNING_KEYS"), HasSubstr("ENVIRONMENT=staging"));
}

TEST(Settings, DevelopmentWithoutKeyFilesMakesOneKeyPerProcessAndWarns) {
  for (const auto& [algorithm, type] :
       {std::pair{"EdDSA", KeyType::ed25519}, std::pair{"ES256", KeyType::p256}}) {
    const auto s = load({{"JWT_ALGORITHM", algorithm}});
    ASSERT_EQ(s.jwt_signing_keys.size(), 1u);
    EXPECT_EQ(s.jwt_signing_keys[0]->type(), type);
    EXPECT_TRUE(s.jwt_signing_key_generated);
    EXPECT_THAT(s.warnings, Contains(HasSubstr("JWT_SIGNING_KEYS is not set")));
    EXPECT_FALSE(s.jwt_secret_generated) << "no HMAC secret is made for a public-key algorithm";
  }
}

TEST(Settings, WarnsAboutTheKeyMaterialTheAlgorithmDoesNotUse) {
  KeyFiles files;
  const auto key = files.add("k.pem", KeyType::ed25519);
  EXPECT_THAT(load(with(public_key_production("EdDSA", key), "JWT_SECRET", kSecret)).warnings,
              Contains(HasSubstr("JWT_SECRET is not used with JWT_ALGORITHM=EdDSA")));
  EXPECT_THAT(load(with(production(), "JWT_SIGNING_KEYS", key)).warnings,
              Contains(HasSubstr("JWT_SIGNING_KEYS is not used with JWT_ALGORITHM=HS256")));
  EXPECT_THAT(load(with(production(), "JWT_SIGNING_KEYS", "")).warnings,
              Not(Contains(HasSubstr("JWT_SIGNING_KEYS"))));
}

TEST(Settings, PublicBaseUrl) {
  EXPECT_EQ(load({}).public_base_url, "");
  EXPECT_EQ(load({{"PUBLIC_BASE_URL", "https://users.example.com/"}}).public_base_url,
            "https://users.example.com");
  EXPECT_EQ(load({{"PUBLIC_BASE_URL", "http://[::1]:8000/auth"}}).public_base_url,
            "http://[::1]:8000/auth");
  for (const auto* bad : {"users.example.com", "ftp://x", "https://", "https://a.b/?q=1",
                          "https://a.b/#f", "https://a\"b", "https:///path"}) {
    EXPECT_THAT(problem_about({{"PUBLIC_BASE_URL", bad}}, "PUBLIC_BASE_URL"),
                HasSubstr("must be an http(s) URL"))
        << bad;
  }
}

// ---- events (docs/events.md) ----------------------------------------------------------------

// 32 bytes of key, base64.
const std::string kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0ZEBIIbRXUs=";

TEST(Settings, EventsDefaults) {
  const auto s = load({});
  EXPECT_THAT(s.webhook_urls, IsEmpty());
  EXPECT_EQ(s.webhook_secret, "");
  EXPECT_EQ(s.outbox_max_age, std::chrono::hours(72));
  EXPECT_EQ(described(s, "OUTBOX_MAX_AGE_HOURS"), "72");
}

TEST(Settings, WebhookUrlsNeedTheirSecretAndAreNeverEchoed) {
  const auto s =
      load({{"WEBHOOK_URLS", "https://hooks.example.com/in, http://user:pw@10.0.0.5:9000/h"},
            {"WEBHOOK_SECRET", kWebhookSecret},
            {"OUTBOX_MAX_AGE_HOURS", "24"}});
  EXPECT_THAT(s.webhook_urls,
              ElementsAre("https://hooks.example.com/in", "http://user:pw@10.0.0.5:9000/h"));
  EXPECT_EQ(s.outbox_max_age, std::chrono::hours(24));
  EXPECT_EQ(load({{"OUTBOX_MAX_AGE_HOURS", "0.005"}}).outbox_max_age, std::chrono::seconds(18));
  EXPECT_EQ(described(load({{"OUTBOX_MAX_AGE_HOURS", "0.5"}}), "OUTBOX_MAX_AGE_HOURS"), "0.5");
  EXPECT_EQ(described(s, "WEBHOOK_SECRET"), "***");
  EXPECT_THAT(described(s, "WEBHOOK_URLS"), Not(HasSubstr("pw")));

  EXPECT_THAT(problem_about({{"WEBHOOK_URLS", "https://hooks.example.com/in"}}, "WEBHOOK_SECRET"),
              HasSubstr("is required when WEBHOOK_URLS is set"));
  const auto bad_secret = problem_about({{"WEBHOOK_SECRET", "whsec_c2hvcnQ="}}, "WEBHOOK_SECRET");
  EXPECT_THAT(bad_secret, HasSubstr("must be whsec_"));
  EXPECT_THAT(bad_secret, Not(HasSubstr("c2hvcnQ")));
  const auto bad_url = problem_about(
      {{"WEBHOOK_URLS", "ftp://user:secret-pw@x/h"}, {"WEBHOOK_SECRET", kWebhookSecret}},
      "WEBHOOK_URLS");
  EXPECT_THAT(bad_url, HasSubstr("item 1 is not an http(s) URL"));
  EXPECT_THAT(bad_url, Not(HasSubstr("secret-pw")));
  EXPECT_THAT(
      problem_about({{"WEBHOOK_URLS", "http://a/h,http://a/h"}, {"WEBHOOK_SECRET", kWebhookSecret}},
                    "WEBHOOK_URLS"),
      HasSubstr("lists one URL twice"));
  // Empty keys of a Kubernetes Secret leave webhooks off.
  EXPECT_THAT(load({{"WEBHOOK_URLS", ""}, {"WEBHOOK_SECRET", ""}}).webhook_urls, IsEmpty());
  for (const auto* bad : {"0", "-1", "8761", "0.0001", "1h", "nan", "inf"}) {
    EXPECT_THAT(problem_about({{"OUTBOX_MAX_AGE_HOURS", bad}}, "OUTBOX_MAX_AGE_HOURS"),
                HasSubstr("must be a number of hours"))
        << bad;
  }
}

// ---- emails (docs/events.md "Emails") --------------------------------------------------------

const std::string kPublicBase = "https://users.example.com";
const std::string kSmtp = "smtp://mailer:smtp-pw-123@smtp.example.com:587";
const std::string kEmailService = "https://api:svc-pw-456@mail.example.com/send";

// SMTP_URL and what it needs besides (EMAIL_FROM, PUBLIC_BASE_URL), on top of `env`; with a
// JWT_SECRET, so that the only warnings are the emails'.
Env with_smtp(Env env, const std::string& url = kSmtp) {
  env.emplace("JWT_SECRET", kSecret);
  env["SMTP_URL"] = url;
  env["EMAIL_FROM"] = "no-reply@example.com";
  env["PUBLIC_BASE_URL"] = kPublicBase;
  return env;
}

const char* const kNoEmailWarning = "EMAIL_SERVICE_URL and SMTP_URL are not set";

TEST(Settings, EmailDefaultsLogEmailsAndWarn) {
  const auto s = load({});
  EXPECT_EQ(s.email_service_url, "");
  EXPECT_EQ(s.smtp_url, "");
  EXPECT_FALSE(s.smtp_require_tls);
  EXPECT_EQ(s.email_from, "");
  EXPECT_FALSE(s.require_verified_email);
  EXPECT_THAT(s.warnings, Contains(AllOf(HasSubstr(kNoEmailWarning),
                                         HasSubstr("logged without their tokens and not sent"))));
  for (const auto* name : {"EMAIL_SERVICE_URL", "SMTP_URL", "EMAIL_FROM"})
    EXPECT_EQ(described(s, name), "") << name;
  EXPECT_EQ(described(s, "SMTP_REQUIRE_TLS"), "false");
  EXPECT_EQ(described(s, "REQUIRE_VERIFIED_EMAIL"), "false");
  // Empty keys of a Kubernetes Secret are unset too.
  const auto blank = load({{"EMAIL_SERVICE_URL", ""}, {"SMTP_URL", " "}, {"EMAIL_FROM", ""}});
  EXPECT_EQ(blank.smtp_url, "");
  EXPECT_THAT(blank.warnings, Contains(HasSubstr(kNoEmailWarning)));
}

TEST(Settings, SmtpUrlWithItsSenderAndPublicBaseUrl) {
  const auto s = load(with(with_smtp({}), "SMTP_REQUIRE_TLS", "yes"));
  EXPECT_EQ(s.smtp_url, kSmtp);
  EXPECT_EQ(s.email_service_url, "");
  EXPECT_TRUE(s.smtp_require_tls);
  EXPECT_EQ(s.email_from, "no-reply@example.com");
  EXPECT_EQ(s.public_base_url, kPublicBase);
  EXPECT_THAT(s.warnings, Not(Contains(HasSubstr(kNoEmailWarning))));
  EXPECT_EQ(described(s, "SMTP_URL"), "smtp://mailer:***@smtp.example.com:587");
  EXPECT_EQ(described(s, "SMTP_REQUIRE_TLS"), "true");
  EXPECT_EQ(described(s, "EMAIL_FROM"), "no-reply@example.com");
  for (const auto* url :
       {"smtp://smtp.example.com", "smtps://smtp.example.com:465", "smtps://u:p%40ss%2F@mx/",
        "smtp://10.0.0.25:2525", "smtp://[::1]:25", "SMTP://Mail.Example.com", "smtp://:pw@mx"}) {
    EXPECT_EQ(load(with_smtp({}, url)).smtp_url, url) << url;
  }
  EXPECT_EQ(load(with(with_smtp({}), "EMAIL_FROM", " a.b+c@sub.example.co ")).email_from,
            "a.b+c@sub.example.co");
  EXPECT_THAT(problem_about(with(with_smtp({}), "SMTP_REQUIRE_TLS", "maybe"), "SMTP_REQUIRE_TLS"),
              HasSubstr("must be a boolean"));
}

TEST(Settings, SmtpUrlMistakesAreRefusedWithThePasswordMasked) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://u:secret-pw@mx", "the scheme is not smtp or smtps"},
      {"smtp:/u:secret-pw@mx", "must be smtp://[user:password@]host[:port]"},
      {"u:secret-pw@mx:25", "must be smtp://[user:password@]host[:port]"},
      {"smtp://u:secret-pw@", "a host is required"},
      {"smtp://u:secret@pw@mx", "percent-encode '@', '/', '?' and '#'"},
      {"smtp://u:secret/pw@mx", "percent-encode '@', '/', '?' and '#'"},
      {"smtp://u:secret-pw@mx/ehlo.example", "no path, query or fragment"},
      {"smtp://u:secret-pw@mx?auth=plain", "no path, query or fragment"},
      {"smtp://u:secret-pw@mx:0", "the port must be from 1 to 65535"},
      {"smtp://u:secret-pw@mx:65536", "the port must be from 1 to 65535"},
      {"smtp://u:secret-pw@mx:", "the port must be from 1 to 65535"},
      {"smtp://u:secret-pw@mx:25x", "the port must be from 1 to 65535"},
      {"smtp://u:secret-pw@m x", "must not contain blanks or control characters"},
      {"smtp://u:secret-pw@mail!host", "the host is not a valid name or address"},
      {"smtp://u:secret-pw@[::1", "an IPv6 host needs a closing ']'"},
      {"smtp://u:secret-pw@[mx]", "the IPv6 host is not valid"},
      {"smtp://u:secret-pw@[::1]x", "unexpected characters after the IPv6 host"},
  };
  for (const auto& [url, message] : cases) {
    const auto problem = problem_about(with_smtp({}, url), "SMTP_URL");
    EXPECT_THAT(problem, HasSubstr(message)) << url;
    EXPECT_THAT(problem, Not(HasSubstr("secret"))) << url;
  }
  // A value without "://" is shown only by its length.
  EXPECT_THAT(problem_about(with_smtp({}, "u:secret-pw@mx:25"), "SMTP_URL"),
              HasSubstr("(got a 17-byte value)"));
  EXPECT_THAT(problem_about(with_smtp({}, "http://u:secret-pw@mx"), "SMTP_URL"),
              HasSubstr("(got 'http://u:***@mx')"));
}

TEST(Settings, EmailFromIsRequiredWithSmtpAndMustBeAPlainAddress) {
  Env env = with_smtp({});
  env.erase("EMAIL_FROM");
  EXPECT_EQ(problem_about(env, "EMAIL_FROM"),
            "EMAIL_FROM: is required when SMTP_URL is set: the sender of every email (not set)");
  for (const auto* named : {"Users <no-reply@example.com>", "<no-reply@example.com>"}) {
    EXPECT_THAT(problem_about(with(with_smtp({}), "EMAIL_FROM", named), "EMAIL_FROM"),
                HasSubstr("the form 'Name <address>' is not supported"))
        << named;
  }
  for (const auto* bad :
       {"no-reply", "no-reply@", "@example.com", "a@b@example.com", "no reply@example.com",
        "no-reply@example.com\r\nBcc: all@example.com", "a,b@example.com", "a@example.com>",
        "\"a\"@example.com", "a@[10.0.0.1]", "a;b@example.com", "josé@example.com"}) {
    EXPECT_THAT(problem_about(with(with_smtp({}), "EMAIL_FROM", bad), "EMAIL_FROM"),
                HasSubstr("must be a plain email address"))
        << bad;
  }
  // Without SMTP nothing requires it, but a bad value is still refused.
  EXPECT_EQ(load({{"EMAIL_FROM", "no-reply@example.com"}}).email_from, "no-reply@example.com");
  EXPECT_THAT(problem_about({{"EMAIL_FROM", "nobody"}}, "EMAIL_FROM"),
              HasSubstr("must be a plain email address"));
}

TEST(Settings, EmailServiceUrlIsAnHttpUrlMaskedLikeWebhooks) {
  const auto s = load({{"EMAIL_SERVICE_URL", kEmailService},
                       {"PUBLIC_BASE_URL", kPublicBase},
                       {"JWT_SECRET", kSecret}});
  EXPECT_EQ(s.email_service_url, kEmailService);
  EXPECT_EQ(s.smtp_url, "");
  EXPECT_THAT(s.warnings, IsEmpty());
  EXPECT_EQ(described(s, "EMAIL_SERVICE_URL"), "https://api:***@mail.example.com/send");
  EXPECT_EQ(
      load({{"EMAIL_SERVICE_URL", "http://mailer:8080/v1/send"}, {"PUBLIC_BASE_URL", kPublicBase}})
          .email_service_url,
      "http://mailer:8080/v1/send");
  for (const auto* bad : {"ftp://api:svc-pw-456@mail.example.com/send", "mail.example.com/send",
                          "https://", "https:///send", "https://api:svc-pw-456@mail example.com"}) {
    const auto problem = problem_about(
        {{"EMAIL_SERVICE_URL", bad}, {"PUBLIC_BASE_URL", kPublicBase}}, "EMAIL_SERVICE_URL");
    EXPECT_THAT(problem, HasSubstr("must be an http(s) URL with a host")) << bad;
    EXPECT_THAT(problem, Not(HasSubstr("svc-pw"))) << bad;
  }
  // The email service chooses the sender: EMAIL_FROM is accepted but said to be unused.
  EXPECT_THAT(load({{"EMAIL_SERVICE_URL", kEmailService},
                    {"PUBLIC_BASE_URL", kPublicBase},
                    {"JWT_SECRET", kSecret},
                    {"EMAIL_FROM", "no-reply@example.com"}})
                  .warnings,
              ElementsAre(HasSubstr("EMAIL_FROM is not used with EMAIL_SERVICE_URL")));
}

TEST(Settings, EmailsAreSentOneWayOnly) {
  const auto problems = problems_of(with(with_smtp({}), "EMAIL_SERVICE_URL", kEmailService));
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_THAT(problems[0], HasSubstr("EMAIL_SERVICE_URL: cannot be set together with SMTP_URL"));
  EXPECT_THAT(problems[0], Not(HasSubstr("svc-pw")));
  EXPECT_THAT(problems[0], Not(HasSubstr("smtp-pw")));
}

TEST(Settings, EmailLinksNeedThePublicBaseUrl) {
  const std::string expected =
      "PUBLIC_BASE_URL: is required when emails are sent (EMAIL_SERVICE_URL or SMTP_URL): links "
      "in emails are never built from a request's Host (not set)";
  Env smtp = with_smtp({});
  smtp.erase("PUBLIC_BASE_URL");
  EXPECT_EQ(problem_about(smtp, "PUBLIC_BASE_URL"), expected);
  EXPECT_EQ(problem_about({{"EMAIL_SERVICE_URL", kEmailService}}, "PUBLIC_BASE_URL"), expected);
  // An invalid SMTP_URL still means emails are meant to be sent.
  EXPECT_THAT(problems_of(with(smtp, "SMTP_URL", "ftp://mx")),
              UnorderedElementsAre(HasSubstr("SMTP_URL: "), expected));
  // A refused PUBLIC_BASE_URL is reported once, as refused.
  EXPECT_THAT(problem_about(with(smtp, "PUBLIC_BASE_URL", "users.example.com"), "PUBLIC_BASE_URL"),
              HasSubstr("must be an http(s) URL"));
  EXPECT_THAT(problem_about(with(smtp, "PUBLIC_BASE_URL", "/"), "PUBLIC_BASE_URL"),
              HasSubstr("is required when emails are sent"));
}

TEST(Settings, RequireVerifiedEmail) {
  EXPECT_TRUE(load(with_smtp({{"REQUIRE_VERIFIED_EMAIL", "true"}})).require_verified_email);
  EXPECT_THAT(load(with_smtp({{"REQUIRE_VERIFIED_EMAIL", "true"}})).warnings, IsEmpty());
  EXPECT_EQ(
      described(load(with_smtp({{"REQUIRE_VERIFIED_EMAIL", "on"}})), "REQUIRE_VERIFIED_EMAIL"),
      "true");
  EXPECT_THAT(problem_about({{"REQUIRE_VERIFIED_EMAIL", "always"}}, "REQUIRE_VERIFIED_EMAIL"),
              HasSubstr("must be a boolean"));
  // Nobody could verify an address: accepted, with a warning.
  const auto unsent = load({{"REQUIRE_VERIFIED_EMAIL", "1"}});
  EXPECT_TRUE(unsent.require_verified_email);
  EXPECT_THAT(unsent.warnings,
              Contains(HasSubstr("REQUIRE_VERIFIED_EMAIL is true but no email is sent")));
}

TEST(Settings, EmailProblemsComeWithEveryOtherProblemAndNoSecret) {
  const auto problems = problems_of({{"ENVIRONMENT", "production"},
                                     {"PORT", "abc"},
                                     {"JWT_SECRET", kSecret},
                                     {"DATABASE_URL", kPostgres},
                                     {"SMTP_URL", "smtp://u:smtp-pw-789@mx:99999"},
                                     {"EMAIL_FROM", "Users <no-reply@example.com>"}});
  EXPECT_THAT(problems,
              UnorderedElementsAre(HasSubstr("PORT: "),
                                   "SMTP_URL: the port must be from 1 to 65535 (got "
                                   "'smtp://u:***@mx:99999')",
                                   HasSubstr("EMAIL_FROM: must be a plain address"),
                                   HasSubstr("PUBLIC_BASE_URL: is required when emails are sent")));
  for (const auto& p : problems) EXPECT_THAT(p, Not(HasSubstr("smtp-pw-789")));
}

TEST(Settings, DescribeMasksEveryEmailSecret) {
  for (const auto& env : {with_smtp({}), Env{{"EMAIL_SERVICE_URL", kEmailService},
                                             {"PUBLIC_BASE_URL", kPublicBase}}}) {
    for (const auto& [name, value] : describe(load(env))) {
      EXPECT_THAT(value, Not(HasSubstr("smtp-pw-123"))) << name;
      EXPECT_THAT(value, Not(HasSubstr("svc-pw-456"))) << name;
    }
  }
}

// ---- tracing (docs/tracing.md) ------------------------------------------------------------------

TEST(Settings, TracingIsOffUntilAnEndpointIsSet) {
  const Settings off = load({});
  EXPECT_TRUE(off.otel_traces_endpoint.empty());
  EXPECT_EQ(off.otel_service_name, "User Service");
  EXPECT_EQ(off.otel_sampler.name(), "parentbased_always_on");

  const Settings base =
      load({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"}, {"APP_NAME", "Accounts"}});
  EXPECT_EQ(base.otel_traces_endpoint, "http://collector:4318/v1/traces");
  EXPECT_EQ(base.otel_service_name, "Accounts");

  const Settings full = load({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                              {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example/in"},
                              {"OTEL_SERVICE_NAME", "users"},
                              {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,a=b%2Cc"},
                              {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                              {"OTEL_TRACES_SAMPLER_ARG", "0.01"},
                              {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20k"}});
  EXPECT_EQ(full.otel_traces_endpoint, "https://traces.example/in");
  EXPECT_EQ(full.otel_service_name, "users");
  ASSERT_EQ(full.otel_resource_attributes.size(), 2U);
  EXPECT_EQ(std::get<std::string>(full.otel_resource_attributes[1].value), "b,c");
  EXPECT_EQ(full.otel_sampler.name(), "parentbased_traceidratio");
  EXPECT_DOUBLE_EQ(full.otel_sampler.ratio(), 0.01);
  ASSERT_EQ(full.otel_headers.size(), 1U);
  EXPECT_EQ(full.otel_headers[0].second, "Bearer k");
}

TEST(Settings, TheOtlpEncodingIsProtobufUnlessJsonIsAskedFor) {
  EXPECT_EQ(load({}).otel_encoding, kit::otlp::Encoding::protobuf);
  EXPECT_EQ(load({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}}).otel_encoding,
            kit::otlp::Encoding::json);
  // The traces-only variable wins, as in the SDK.
  EXPECT_EQ(load({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                  {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"}})
                .otel_encoding,
            kit::otlp::Encoding::protobuf);
  const auto problems = problems_of({{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"}});
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_THAT(problems[0], StartsWith("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL:"));
}

TEST(Settings, TracingProblemsAreNamedAndHeadersNeverShown) {
  const auto problems = problems_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
                                     {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
                                     {"OTEL_TRACES_SAMPLER", "sometimes"},
                                     {"OTEL_RESOURCE_ATTRIBUTES", "novalue"},
                                     {"OTEL_EXPORTER_OTLP_HEADERS", "x-key=%zz-secret-value"}});
  ASSERT_EQ(problems.size(), 5U);
  for (const char* name :
       {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_TRACES_SAMPLER",
        "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_HEADERS"}) {
    EXPECT_THAT(problems, Contains(StartsWith(std::string(name) + ":"))) << name;
  }
  for (const auto& p : problems) EXPECT_THAT(p, Not(HasSubstr("secret-value")));
  EXPECT_THAT(
      problems_of({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "2"}}),
      ElementsAre(StartsWith("OTEL_TRACES_SAMPLER_ARG:")));
  const auto d = describe(load({{"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20k"}}));
  for (const auto& [name, value] : d) {
    if (name == "OTEL_EXPORTER_OTLP_HEADERS") {
      EXPECT_EQ(value, "***");
    }
  }
}

}  // namespace
}  // namespace user_service
