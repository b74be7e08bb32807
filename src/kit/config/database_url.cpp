#include "kit/config/database_url.hpp"

#include <libpq-fe.h>

#include <memory>
#include <vector>

#include "kit/config/parse.hpp"
#include "kit/util/text.hpp"

namespace kit::config {
namespace {

constexpr std::string_view kSqlite = "sqlite://";
constexpr std::string_view kMemory = ":memory:";

DatabaseUrl parse_sqlite(std::string_view url) {
  auto rest = url.substr(kSqlite.size());
  if (rest.empty() || rest == kMemory || rest == "/:memory:")
    return {DatabaseKind::sqlite, std::string(kMemory)};
  if (!rest.starts_with('/'))
    throw std::invalid_argument(
        "a SQLite URL is sqlite:///relative/path.db, sqlite:////absolute/path.db or "
        "sqlite://:memory: (a host is not allowed)");
  rest.remove_prefix(1);  // what follows the third slash is the path, '/' first when absolute
  if (rest.empty() || rest.ends_with('/'))
    throw std::invalid_argument("a SQLite URL needs a file name after sqlite:///");
  if (rest.find_first_of("?#") != std::string_view::npos)
    throw std::invalid_argument("SQLite URL query parameters are not supported");
  return {DatabaseKind::sqlite, std::string(rest)};
}

struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};
struct PqFree {
  void operator()(char* p) const noexcept { PQfreemem(p); }
};

// libpq's parse errors quote the offending token or the whole URI, which may hold the password.
// When the URL carries one, keep only the part of the message before the first quote.
std::string scrub(std::string message, std::string_view url) {
  message = std::string(trim(message));
  const bool has_secret = !url_password(url).empty() ||
                          util::ascii_lowercase(url).find("password") != std::string::npos;
  if (has_secret) {
    message = message.substr(0, message.find('"'));
    while (!message.empty() && (message.back() == ' ' || message.back() == ':')) message.pop_back();
  }
  return message;
}

void check_port(std::string_view ports) {
  // A multi-host URI carries a comma list of ports.
  while (true) {
    const auto comma = ports.find(',');
    const auto port = ports.substr(0, comma);
    if (!port.empty()) {
      const auto n = parse_integer(port);
      if (!n || *n < 1 || *n > 65535 || trim(port) != port)
        throw std::invalid_argument("the port must be from 1 to 65535");
    }
    if (comma == std::string_view::npos) break;
    ports.remove_prefix(comma + 1);
  }
}

void check_options(const PQconninfoOption* options) {
  for (const auto* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view keyword(o->keyword);
    const std::string_view value(o->val);
    if (keyword == "port") {
      check_port(value);
    } else if (keyword == "sslmode") {
      static constexpr std::string_view kModes[] = {"disable", "allow",     "prefer",
                                                    "require", "verify-ca", "verify-full"};
      bool known = false;
      for (auto m : kModes) known = known || value == m;
      if (!known)
        throw std::invalid_argument(
            "sslmode must be disable, allow, prefer, require, verify-ca or verify-full");
    } else if (keyword == "connect_timeout") {
      const auto n = parse_integer(value);
      if (!n || *n < 0) throw std::invalid_argument("connect_timeout must be whole seconds >= 0");
    }
  }
}

DatabaseUrl parse_postgres(std::string_view url) {
  const std::string text(url);
  char* raw_error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoDeleter> options(
      PQconninfoParse(text.c_str(), &raw_error));
  std::unique_ptr<char, PqFree> error(raw_error);
  if (!options) {
    std::string message = "not a valid PostgreSQL connection URI";
    if (error) message += ": " + scrub(error.get(), url);
    throw std::invalid_argument(message);
  }
  check_options(options.get());
  return {DatabaseKind::postgres, {}};
}

}  // namespace

std::string url_password(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto rest = url.substr(scheme_end + 3);
  // Same rule as mask_url_password: the user info ends at the last '@'.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    if (const auto colon = userinfo.find(':'); colon != std::string_view::npos)
      return std::string(userinfo.substr(colon + 1));
  }
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    auto query = rest.substr(q + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
      const auto amp = query.find('&');
      const auto param = query.substr(0, amp);
      const auto eq = param.find('=');
      if (eq != std::string_view::npos && util::iequals_ascii(param.substr(0, eq), "password"))
        return std::string(param.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return {};
}

DatabaseUrl parse_database_url(std::string_view url) {
  if (url.starts_with(kSqlite)) return parse_sqlite(url);
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return parse_postgres(url);
  const auto scheme_end = url.find("://");
  const auto scheme = url.substr(0, scheme_end);
  if (scheme_end != std::string_view::npos && scheme.find('+') != std::string_view::npos)
    throw std::invalid_argument(
        "driver suffixes such as +asyncpg are not used: write postgresql://… or sqlite:///…");
  throw std::invalid_argument(
      "must start with sqlite://, postgresql:// or postgres:// (lowercase)");
}

}  // namespace kit::config
