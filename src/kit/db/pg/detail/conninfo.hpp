#pragma once
// Connection strings hold passwords. They are parsed once, here, so the rest of the driver only
// sees keyword/value pairs, a log-safe endpoint ("host:port/dbname") and the secrets to redact
// from any libpq message before it reaches an exception or a log line.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kit::db::pg::detail {

struct ConnInfo {
  std::vector<std::pair<std::string, std::string>> params;  // non-empty keyword/value pairs
  std::string endpoint;                                     // host:port/dbname, safe for logs
  std::vector<std::string> secrets;                         // password and the raw string
};

// Throws std::invalid_argument with a message that never echoes the string (libpq's own
// parse errors quote pieces of it, which may be the password).
ConnInfo parse_conninfo(const std::string& conninfo);

// The value of `keyword`, or empty.
std::string_view find_param(const ConnInfo& info, std::string_view keyword);
void set_param(ConnInfo& info, std::string keyword, std::string value);

// `message` with every secret replaced by "***", trimmed, on one line.
std::string redact(std::string message, const std::vector<std::string>& secrets);

}  // namespace kit::db::pg::detail
