#pragma once
// The user entity as the service layer sees it. Only the repositories build it from rows and
// only schemas/user_response turns it into JSON, which never includes password_hash.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace user_service::domain {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

enum class Role { user, admin };

inline std::string_view to_string(Role r) noexcept {
  return r == Role::admin ? "admin" : "user";
}
inline std::optional<Role> parse_role(std::string_view s) noexcept {
  if (s == "user") return Role::user;
  if (s == "admin") return Role::admin;
  return std::nullopt;
}

struct User {
  std::string id;     // lowercase UUID text
  std::string email;  // normalized: trimmed, lowercased
  std::string name;
  std::string password_hash;  // argon2id PHC string
  Role role = Role::user;
  // The user proved the current email address (docs/account-emails.md).
  bool email_verified = false;
  Timestamp created_at{};
  Timestamp updated_at{};
};

}  // namespace user_service::domain
