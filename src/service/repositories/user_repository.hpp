#pragma once
// The users repository: the only way the service layer reaches stored users. Implemented for
// PostgreSQL (pg_user_repository) and SQLite (sqlite_user_repository) and tested with one
// suite against both. Every method is a coroutine that never blocks the calling I/O thread.
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/outbox/message.hpp"
#include "service/domain/session.hpp"
#include "service/domain/user.hpp"
#include "service/repositories/account_token_repository.hpp"

namespace user_service::repositories {

// The email is already used by another user (the unique index said so: race-safe).
struct EmailTaken : std::runtime_error {
  EmailTaken() : std::runtime_error("email already registered") {}
};

struct NewUser {
  std::string id;
  std::string email;  // stored as schemas::normalize_email() of it (trimmed, ASCII lowercase)
  std::string name;
  std::string password_hash;
  domain::Role role = domain::Role::user;
  domain::Timestamp created_at{};  // also the initial updated_at
  bool email_verified = false;
  // The email verification token, stored with the user (docs/account-emails.md).
  std::optional<NewAccountToken> verification = std::nullopt;
  // Events of the registration (and its verification email), written with the user
  // (docs/events.md).
  std::vector<kit::outbox::Message> outbox = {};
};

// Fields left empty are not changed.
struct UserUpdate {
  std::optional<std::string> email;
  std::optional<std::string> name;
  std::optional<std::string> password_hash;
  std::optional<domain::Role> role;
  domain::Timestamp updated_at{};
  // Set with a new password: every active session of the user but this one is revoked (reason
  // `password_changed`, at updated_at) in the same transaction as the change, so no old session
  // outlives it and a failed change ends none.
  std::optional<std::string> revoke_sessions_except = std::nullopt;
  // Set with a new email: the address is unverified again, and this token (for the new
  // address) is stored with the change (docs/account-emails.md).
  std::optional<NewAccountToken> verification = std::nullopt;
  // Events of the change, written with it when the user exists (docs/events.md).
  std::vector<kit::outbox::Message> outbox = {};
};

// Keyset position: the last item of the previous page. Order is created_at DESC, id DESC.
struct PageCursor {
  domain::Timestamp created_at{};
  std::string id;
};

// find_caller()'s answer.
struct CallerRead {
  std::optional<domain::User> caller;  // nullopt: no such user, or its session is not active
  std::optional<domain::User> other;   // the other id asked for, when it exists
};

// find_caller()'s answer from the rows its statement returned (the caller's row and the other's,
// in any order; one row when they are the same user).
CallerRead caller_read(std::vector<domain::User> rows, std::string_view caller_id,
                       std::optional<std::string_view> other);

struct Page {
  std::vector<domain::User> items;
  std::optional<PageCursor> next;  // set when more items follow
};

class UserRepository {
 public:
  virtual ~UserRepository() = default;

  // Emails go in and are looked up as schemas::normalize_email() of what the caller passes, and
  // are compared exactly in that form: "A@x.io" and "a@x.io" are one address, "Ü@x.io" and
  // "ü@x.io" two, on every backend.
  // Throws EmailTaken when the normalized email exists.
  virtual boost::asio::awaitable<domain::User> create(const NewUser& user,
                                                      kit::async::Deadline deadline = {}) = 0;
  virtual boost::asio::awaitable<std::optional<domain::User>> find_by_id(
      std::string_view id, kit::async::Deadline deadline = {}) = 0;
  // The caller of an authenticated request, in ONE statement (one database round trip): the
  // user `key.user_id`, only while its session `key.session_id` is active at `now` (not revoked,
  // not expired), and the user `other` when one is asked for (any text; not a UUID: absent).
  // When the session is not active, neither user is returned: revocation is seen by the next
  // request on every replica, and costs `me` no second round trip.
  virtual boost::asio::awaitable<CallerRead> find_caller(
      const domain::SessionKey& key, domain::Timestamp now,
      std::optional<std::string_view> other = std::nullopt, kit::async::Deadline deadline = {}) = 0;
  // By the normalized email.
  virtual boost::asio::awaitable<std::optional<domain::User>> find_by_email(
      std::string_view email, kit::async::Deadline deadline = {}) = 0;
  // Returns the updated user, or nullopt when it no longer exists. Throws EmailTaken.
  virtual boost::asio::awaitable<std::optional<domain::User>> update(
      std::string_view id, const UserUpdate& update, kit::async::Deadline deadline = {}) = 0;
  // Returns false when no such user existed. `outbox` is written with the deletion, only when
  // a user was deleted.
  virtual boost::asio::awaitable<bool> remove(std::string_view id,
                                              kit::async::Deadline deadline = {},
                                              std::vector<kit::outbox::Message> outbox = {}) = 0;
  // Newest first; `limit` is 1..100 (checked by the caller). A cursor whose time is not
  // is_storable() (timestamps.hpp) throws std::out_of_range on every backend, before any query.
  virtual boost::asio::awaitable<Page> list(std::size_t limit, std::optional<PageCursor> after,
                                            kit::async::Deadline deadline = {}) = 0;
};

}  // namespace user_service::repositories
