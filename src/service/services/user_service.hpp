#pragma once
// Business rules for users, without HTTP (docs/http-api.md "Routes"): registration, reading,
// changing and deleting one's own account, the admin list and creating or promoting admins. Errors
// are the kit's typed errors (Conflict, Forbidden, ValidationError...), rendered by the error
// middleware.
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/security/password_hasher.hpp"
#include "service/domain/user.hpp"
#include "service/repositories/user_repository.hpp"
#include "service/schemas/users.hpp"
#include "service/services/account_mail.hpp"
#include "service/services/events.hpp"

namespace user_service::services {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// The clock's time as stored and compared (microseconds, like every backend keeps it).
inline domain::Timestamp now_of(const Clock& clock) {
  return std::chrono::time_point_cast<std::chrono::microseconds>(clock());
}

// next_cursor text: base64url of "<created_at>|<id>"; opaque to clients.
std::string encode_cursor(const repositories::PageCursor& cursor);
// nullopt for anything encode_cursor could not have produced, including a time outside
// repositories::is_storable().
std::optional<repositories::PageCursor> decode_cursor(std::string_view text);

// GET /users/{id}: the caller (the token's subject) and the requested user, loaded together.
struct UserRead {
  std::optional<domain::User> caller;  // nullopt: the token's session is not active (→ 401)
  std::optional<domain::User> target;  // another user, set only when the caller is an admin
  bool self = false;                   // the caller asked for itself

  // The user to show, or null when the caller may not see the id or it does not exist (one
  // 404 for both, so ids of other users cannot be probed). Meaningful only with a caller.
  const domain::User* visible() const noexcept {
    if (self && caller) return &*caller;
    return target ? &*target : nullptr;
  }
};

struct AdminResult {
  domain::User user;
  bool created = false;  // false: an existing user was promoted
};

class UserService {
 public:
  // Every change is written with its events (`events`; docs/events.md) and a new address with
  // its verification email (`mail`; docs/account-emails.md).
  UserService(
      repositories::UserRepository& users, kit::security::PasswordHasher& hasher,
      Events events = Events(), AccountMail mail = AccountMail(),
      Clock clock = [] { return std::chrono::system_clock::now(); });

  // Every method that takes a deadline (its request's, kit::async::Deadline) begins no step
  // after it: argon2 work and database calls still waiting are dropped, and no write begins,
  // so a request answered 503 changes nothing.
  //
  // Throws Conflict (409) when the email is taken.
  boost::asio::awaitable<domain::User> register_user(schemas::UserCreate request,
                                                     domain::Role role = domain::Role::user,
                                                     kit::async::Deadline deadline = {});
  // The user itself or an admin may read a user by id. Costs ONE database round trip: the caller
  // (a verified token's subject and session, whose being active is part of authentication) and
  // the requested id are loaded by one statement (UserRepository::find_caller). `requested_id`
  // is raw client input; one that is not a UUID never reaches the database.
  boost::asio::awaitable<UserRead> read_user(const domain::SessionKey& caller,
                                             std::string_view requested_id,
                                             kit::async::Deadline deadline = {});
  // Whether a user with this id exists (`id` is raw client input).
  boost::asio::awaitable<bool> exists(std::string_view id, kit::async::Deadline deadline = {});
  // Applies `change` to `me`. A new email or password needs the right current_password:
  // missing → 422, wrong → 403 Forbidden. Email taken → 409. User gone meanwhile → 401.
  // A new password ends every other session of the user but `current_session` (the one that
  // made the change), in the same transaction (docs/sessions.md).
  boost::asio::awaitable<domain::User> update_me(const domain::User& me, schemas::UserUpdate change,
                                                 std::string_view current_session,
                                                 kit::async::Deadline deadline = {});
  // Whether update_me(me, change) verifies current_password (a new email or password, with
  // current_password sent): the routes count such a request as a password check.
  static bool checks_password(const domain::User& me, const schemas::UserUpdate& change);
  boost::asio::awaitable<void> delete_me(const domain::User& me,
                                         kit::async::Deadline deadline = {});
  // Newest first. A malformed cursor → 422 invalid_value on `cursor`.
  boost::asio::awaitable<schemas::UserListResponse> list(const schemas::ListUsersQuery& query,
                                                         kit::async::Deadline deadline = {});
  // `create-admin`: creates the user as admin, or promotes the existing user with that email
  // (its name and password are left unchanged).
  boost::asio::awaitable<AdminResult> create_or_promote_admin(schemas::UserCreate request);

 private:
  repositories::UserRepository& users_;
  kit::security::PasswordHasher& hasher_;
  Events events_;
  AccountMail mail_;
  Clock clock_;
};

}  // namespace user_service::services
