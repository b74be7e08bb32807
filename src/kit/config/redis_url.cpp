#include "kit/config/redis_url.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "kit/config/parse.hpp"
#include "kit/util/text.hpp"

namespace kit::config {
namespace {

constexpr std::string_view kScheme = "redis://";

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

RedisUrl parse_redis_url(std::string_view url) {
  if (url.starts_with("rediss://"))
    throw std::invalid_argument("TLS (rediss://) is not supported; use redis://");
  if (!url.starts_with(kScheme))
    throw std::invalid_argument("must be redis://[user:password@]host[:port][/db]");
  auto rest = url.substr(kScheme.size());

  RedisUrl out;
  // Credentials end at the last '@' (a password may hold an unencoded '/').
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos)
      throw std::invalid_argument(
          "credentials must be written user:password@ or :password@ before the host");
    auto user = util::percent_decode(userinfo.substr(0, colon));
    auto password = util::percent_decode(userinfo.substr(colon + 1));
    if (!user || !password)
      throw std::invalid_argument("credentials contain an invalid percent-encoding");
    if (password->empty()) throw std::invalid_argument("the password after ':' is empty");
    out.username = std::move(*user);
    out.password = std::move(*password);
    rest.remove_prefix(at + 1);
  }
  if (rest.find_first_of("?#") != std::string_view::npos)
    throw std::invalid_argument("query parameters are not supported");

  const auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  std::string_view port;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos)
      throw std::invalid_argument("an IPv6 host needs a closing ']'");
    out.host = std::string(hostport.substr(1, close - 1));
    const auto after = hostport.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      throw std::invalid_argument("unexpected characters after the IPv6 host");
    if (!after.empty()) port = after.substr(1);
    if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), [](char c) {
          return c == ':' || c == '.' || std::isxdigit(static_cast<unsigned char>(c));
        }))
      throw std::invalid_argument("the IPv6 host is not valid");
  } else {
    const auto colon = hostport.find(':');
    out.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
    if (out.host.empty()) throw std::invalid_argument("a host is required");
    if (!std::all_of(out.host.begin(), out.host.end(), is_host_char))
      throw std::invalid_argument("the host is not a valid name or address");
  }
  if (!port.empty() || hostport.ends_with(':')) {
    const auto n = parse_integer(port);
    if (!n || *n < 1 || *n > 65535 || trim(port) != port || port.starts_with('+'))
      throw std::invalid_argument("the port must be from 1 to 65535");
    out.port = static_cast<std::uint16_t>(*n);
  }
  if (slash != std::string_view::npos) {
    const auto db = rest.substr(slash + 1);
    if (!db.empty()) {
      const auto n = parse_integer(db);
      if (!n || *n < 0 || *n > 1'000'000 || db.starts_with('+') || db.starts_with('-'))
        throw std::invalid_argument("the database number must be a whole number >= 0");
      out.db = static_cast<unsigned>(*n);
    }
  }
  return out;
}

}  // namespace kit::config
