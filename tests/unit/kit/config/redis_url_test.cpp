#include "kit/config/redis_url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kit::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(std::string_view url) {
  try {
    parse_redis_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << url;
  return {};
}

TEST(RedisUrl, Full) {
  const auto u = parse_redis_url("redis://app:p%40ss@cache.internal:6380/2");
  EXPECT_EQ(u.username, "app");
  EXPECT_EQ(u.password, "p@ss");
  EXPECT_EQ(u.host, "cache.internal");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 2u);
}

TEST(RedisUrl, Defaults) {
  const auto u = parse_redis_url("redis://localhost");
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0u);
  EXPECT_EQ(parse_redis_url("redis://localhost/").db, 0u);
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1:6379").port, 6379);
}

TEST(RedisUrl, PasswordOnly) {
  const auto u = parse_redis_url("redis://:pw@h:6379/0");
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.password, "pw");
}

TEST(RedisUrl, Ipv6) {
  const auto u = parse_redis_url("redis://[::1]:6379/1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.db, 1u);
  EXPECT_EQ(parse_redis_url("redis://[fd00::5]").port, 6379);
}

TEST(RedisUrl, UnencodedSlashInPasswordIsKept) {
  EXPECT_EQ(parse_redis_url("redis://:a/b@h/3").password, "a/b");
}

TEST(RedisUrl, Errors) {
  EXPECT_THAT(error_of("rediss://h:6379"), HasSubstr("TLS"));
  EXPECT_THAT(error_of("http://h"), HasSubstr("must be redis://"));
  EXPECT_THAT(error_of("h:6379"), HasSubstr("must be redis://"));
  EXPECT_THAT(error_of("redis://"), HasSubstr("host is required"));
  EXPECT_THAT(error_of("redis://:6379/0"), HasSubstr("host is required"));
  EXPECT_THAT(error_of("redis://h:0"), HasSubstr("port"));
  EXPECT_THAT(error_of("redis://h:65536"), HasSubstr("port"));
  EXPECT_THAT(error_of("redis://h:abc"), HasSubstr("port"));
  EXPECT_THAT(error_of("redis://h:"), HasSubstr("port"));
  EXPECT_THAT(error_of("redis://h:6379/x"), HasSubstr("database number"));
  EXPECT_THAT(error_of("redis://h:6379/-1"), HasSubstr("database number"));
  EXPECT_THAT(error_of("redis://h/0?timeout=1"), HasSubstr("query parameters"));
  EXPECT_THAT(error_of("redis://bad host/0"), HasSubstr("host"));
  EXPECT_THAT(error_of("redis://[::1/0"), HasSubstr("']'"));
  EXPECT_THAT(error_of("redis://[xyz]/0"), HasSubstr("IPv6"));
  EXPECT_THAT(error_of("redis://[::1]x/0"), HasSubstr("after the IPv6 host"));
  EXPECT_THAT(error_of("redis://u:@h"), HasSubstr("password"));
  EXPECT_THAT(error_of("redis://:p%zz@h"), HasSubstr("percent"));
}

TEST(RedisUrl, AmbiguousCredentialsAreRefusedWithoutEchoingThem) {
  const auto message = error_of("redis://topsecret@h:6379/0");
  EXPECT_THAT(message, HasSubstr("user:password@"));
  EXPECT_THAT(message, Not(HasSubstr("topsecret")));
}

}  // namespace
}  // namespace kit::config
