#pragma once
// REDIS_URL: redis://[[user]:password@]host[:port][/db]. Port defaults to 6379, db to 0.
// Host is a name, an IPv4 address or a bracketed IPv6 address. User and password are
// percent-decoded. TLS (rediss://) and query parameters are refused: the Redis client of the
// kit (hiredis 0.14) supports neither.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kit::config {

struct RedisUrl {
  std::string username;  // empty: the default user
  std::string password;  // empty: no AUTH
  std::string host;      // without brackets
  std::uint16_t port = 6379;
  unsigned db = 0;
};

// Throws std::invalid_argument with a message that never contains the password.
RedisUrl parse_redis_url(std::string_view url);

}  // namespace kit::config
