#include "kit/db/pg/detail/conninfo.hpp"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>

namespace kit::db::pg::detail {

ConnInfo parse_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
  if (error) PQfreemem(error);
  if (!options) {
    throw std::invalid_argument("the PostgreSQL connection string is not valid");
  }
  ConnInfo info;
  for (const PQconninfoOption* o = options.get(); o->keyword; ++o) {
    if (o->val && *o->val) info.params.emplace_back(o->keyword, o->val);
  }
  std::string host{find_param(info, "host")};
  if (host.empty()) host = std::string(find_param(info, "hostaddr"));
  if (host.empty()) host = "localhost";
  std::string port{find_param(info, "port")};
  if (port.empty()) port = "5432";
  std::string dbname{find_param(info, "dbname")};
  info.endpoint = host + ":" + port + "/" + dbname;
  if (auto password = find_param(info, "password"); !password.empty()) {
    info.secrets.emplace_back(password);
  }
  if (!conninfo.empty()) info.secrets.push_back(conninfo);
  return info;
}

std::string_view find_param(const ConnInfo& info, std::string_view keyword) {
  for (const auto& [k, v] : info.params) {
    if (k == keyword) return v;
  }
  return {};
}

void set_param(ConnInfo& info, std::string keyword, std::string value) {
  for (auto& [k, v] : info.params) {
    if (k == keyword) {
      v = std::move(value);
      return;
    }
  }
  info.params.emplace_back(std::move(keyword), std::move(value));
}

std::string redact(std::string message, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (auto pos = message.find(secret); pos != std::string::npos;
         pos = message.find(secret, pos + 3)) {
      message.replace(pos, secret.size(), "***");
    }
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

}  // namespace kit::db::pg::detail
