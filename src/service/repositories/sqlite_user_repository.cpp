#include "service/repositories/sqlite_user_repository.hpp"

#include <stdexcept>

#include "kit/db/errors.hpp"
#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/sqlite_outbox_store.hpp"
#include "service/repositories/timestamps.hpp"
#include "service/repositories/user_rows.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::repositories {
namespace {

using kit::db::sqlite::Row;
using kit::db::sqlite::Rows;
using kit::db::sqlite::Value;

// The unique index users_email_key on the plain email column (migrations/sqlite/0002_*.sql):
// SQLite names a column index's clash by its column. A clash on the primary key is a different
// failure and must not be reported as a taken email.
constexpr std::string_view kEmailIndex = "users.email";

constexpr const char* kInsert =
    "INSERT INTO users (" USER_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectById = "SELECT " USER_COLUMNS " FROM users WHERE id = ?";
// The caller only while its session is active (find_caller; docs/sessions.md).
#define ACTIVE_SESSION                                                           \
  " AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = ?2 AND s.user_id = ?1 AND" \
  " s.revoked_at IS NULL AND s.expires_at > ?3)"
constexpr const char* kSelectCaller =
    "SELECT " USER_COLUMNS " FROM users WHERE id = ?1" ACTIVE_SESSION;
constexpr const char* kSelectCallerAnd =
    "SELECT " USER_COLUMNS " FROM users WHERE id IN (?1, ?4)" ACTIVE_SESSION;
#undef ACTIVE_SESSION
// Emails are stored and looked up in their normalized form (schemas::normalize_email) and
// compared exactly, so the unique index serves the lookup and no lower() folds them.
constexpr const char* kSelectByEmail = "SELECT " USER_COLUMNS " FROM users WHERE email = ?";
// A new email is unverified (docs/account-emails.md).
constexpr const char* kUpdate =
    "UPDATE users SET email = coalesce(?1, email), name = coalesce(?2, name),"
    " password_hash = coalesce(?3, password_hash), role = coalesce(?4, role), updated_at = ?5,"
    " email_verified = CASE WHEN ?1 IS NOT NULL AND ?1 <> email THEN 0 ELSE email_verified END"
    " WHERE id = ?6 RETURNING " USER_COLUMNS;
constexpr const char* kInsertVerification =
    "INSERT INTO account_tokens (token_hash, purpose, user_id, email, created_at, expires_at)"
    " VALUES (?, 'verify_email', ?, ?, ?, ?)";
constexpr const char* kRevokeOthers =
    "UPDATE sessions SET revoked_at = ?2, revoke_reason = 'password_changed' "
    "WHERE user_id = ?1 AND id <> ?3 AND revoked_at IS NULL RETURNING id";
constexpr const char* kDelete = "DELETE FROM users WHERE id = ?";
constexpr const char* kListFirst =
    "SELECT " USER_COLUMNS " FROM users ORDER BY created_at DESC, id DESC LIMIT ?";
constexpr const char* kListAfter = "SELECT " USER_COLUMNS
                                   " FROM users WHERE (created_at, id) < (?, ?)"
                                   " ORDER BY created_at DESC, id DESC LIMIT ?";

std::optional<domain::User> first_user(const Rows& rows) {
  if (rows.empty()) return std::nullopt;
  return sqlite_user_row(rows[0]);
}

template <class T>
Value optional_text(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_same_v<T, domain::Role>) {
    return std::string(domain::to_string(*v));
  } else {
    return *v;
  }
}

// The verification token of a new user or a new email, in the change's transaction.
void write_verification(kit::db::sqlite::Connection& c, const NewAccountToken& token,
                        std::string_view user_id, std::string_view email) {
  const Value params[] = {token.hash, std::string(user_id), std::string(email),
                          format_timestamp(token.created_at), format_timestamp(token.expires_at)};
  c.execute(kInsertVerification, params);
}

[[noreturn]] void rethrow_unique(const kit::db::UniqueViolation& e) {
  if (e.constraint() == kEmailIndex) throw EmailTaken();
  throw e;
}

}  // namespace

boost::asio::awaitable<domain::User> SqliteUserRepository::create(const NewUser& user,
                                                                  kit::async::Deadline deadline) {
  const std::string created = format_timestamp(user.created_at);
  // Parameters are built outside the co_await: GCC 12 miscompiles braced lists inside one.
  const std::string email = schemas::normalize_email(user.email);
  std::vector<Value> params{user.id,
                            email,
                            user.name,
                            user.password_hash,
                            std::string(domain::to_string(user.role)),
                            created,
                            created,
                            std::int64_t{user.email_verified ? 1 : 0}};
  try {
    if (user.outbox.empty() && !user.verification) {
      co_await db_.execute(kInsert, std::move(params), deadline);
    } else {
      // The user, its verification token and its events in one transaction (docs/events.md).
      deadline.check();
      auto body = [&params, &user, &email](kit::db::sqlite::Connection& c) {
        c.execute(kInsert, params);
        if (user.verification) write_verification(c, *user.verification, user.id, email);
        write_outbox(c, user.outbox, user.created_at);
      };
      co_await db_.transaction(std::move(body), deadline);
    }
  } catch (const kit::db::UniqueViolation& e) {
    rethrow_unique(e);
  }
  co_return domain::User{.id = user.id,
                         .email = email,
                         .name = user.name,
                         .password_hash = user.password_hash,
                         .role = user.role,
                         .email_verified = user.email_verified,
                         .created_at = user.created_at,
                         .updated_at = user.created_at};
}

boost::asio::awaitable<std::optional<domain::User>> SqliteUserRepository::find_by_id(
    std::string_view id, kit::async::Deadline deadline) {
  std::vector<Value> params{std::string(id)};
  co_return first_user(co_await db_.query(kSelectById, std::move(params), deadline));
}

boost::asio::awaitable<CallerRead> SqliteUserRepository::find_caller(
    const domain::SessionKey& key, domain::Timestamp now, std::optional<std::string_view> other,
    kit::async::Deadline deadline) {
  std::vector<Value> params{key.user_id, key.session_id, format_timestamp(now)};
  if (other) params.emplace_back(std::string(*other));
  const Rows rows =
      co_await db_.query(other ? kSelectCallerAnd : kSelectCaller, std::move(params), deadline);
  std::vector<domain::User> users;
  for (const Row& row : rows) users.push_back(sqlite_user_row(row));
  co_return caller_read(std::move(users), key.user_id, other);
}

boost::asio::awaitable<std::optional<domain::User>> SqliteUserRepository::find_by_email(
    std::string_view email, kit::async::Deadline deadline) {
  std::vector<Value> params{schemas::normalize_email(email)};
  co_return first_user(co_await db_.query(kSelectByEmail, std::move(params), deadline));
}

boost::asio::awaitable<std::optional<domain::User>> SqliteUserRepository::update(
    std::string_view id, const UserUpdate& update, kit::async::Deadline deadline) {
  const std::optional<std::string> email =
      update.email ? std::optional<std::string>(schemas::normalize_email(*update.email))
                   : std::nullopt;
  std::vector<Value> params{optional_text(email),
                            optional_text(update.name),
                            optional_text(update.password_hash),
                            optional_text(update.role),
                            format_timestamp(update.updated_at),
                            std::string(id)};
  Rows rows;
  try {
    if (update.revoke_sessions_except || !update.outbox.empty() || update.verification) {
      // The change, the revocation and the events in one transaction (UserUpdate), the last two
      // only when the user exists.
      deadline.check();
      auto body = [this, &params, &update, at = format_timestamp(update.updated_at),
                   id = std::string(id)](kit::db::sqlite::Connection& c) {
        Rows changed = c.query(kUpdate, params);
        if (!changed.empty()) {
          if (update.revoke_sessions_except) {
            const Value revoke[] = {id, at, *update.revoke_sessions_except};
            for (const Row& session : c.query(kRevokeOthers, revoke)) {
              write_outbox(c,
                           session_revoked(destinations_, session.text(0), id, "password_changed",
                                           update.updated_at),
                           update.updated_at);
            }
          }
          if (update.verification) {
            write_verification(c, *update.verification, id, changed[0].text(1));
          }
          write_outbox(c, update.outbox, update.updated_at);
        }
        return changed;
      };
      rows = co_await db_.transaction(std::move(body), deadline);
    } else {
      rows = co_await db_.execute_returning(kUpdate, std::move(params), deadline);
    }
  } catch (const kit::db::UniqueViolation& e) {
    rethrow_unique(e);
  }
  co_return first_user(rows);
}

boost::asio::awaitable<bool> SqliteUserRepository::remove(
    std::string_view id, kit::async::Deadline deadline, std::vector<kit::outbox::Message> outbox) {
  std::vector<Value> params{std::string(id)};
  if (outbox.empty()) co_return co_await db_.execute(kDelete, std::move(params), deadline) > 0;
  // The deletion and its events in one transaction, the events only when a user was deleted.
  deadline.check();
  auto body = [&params, &outbox](kit::db::sqlite::Connection& c) {
    const bool deleted = c.execute(kDelete, params) > 0;
    if (deleted) {
      write_outbox(c, outbox,
                   std::chrono::time_point_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now()));
    }
    return deleted;
  };
  co_return co_await db_.transaction(std::move(body), deadline);
}

boost::asio::awaitable<Page> SqliteUserRepository::list(std::size_t limit,
                                                        std::optional<PageCursor> after,
                                                        kit::async::Deadline deadline) {
  if (limit == 0) co_return Page{};  // the caller checks 1..100; never index an empty page
  // One more row than asked tells whether another page follows without a COUNT.
  const auto fetch = static_cast<std::int64_t>(limit) + 1;
  std::vector<Value> params;
  if (after) {
    if (!is_storable(after->created_at)) throw std::out_of_range("page cursor time out of range");
    params = {format_timestamp(after->created_at), after->id, fetch};
  } else {
    params = {fetch};
  }
  const Rows rows =
      co_await db_.query(after ? kListAfter : kListFirst, std::move(params), deadline);
  Page page;
  for (const Row& row : rows) {
    if (page.items.size() == limit) {
      const domain::User& last = page.items.back();
      page.next = PageCursor{last.created_at, last.id};
      break;
    }
    page.items.push_back(sqlite_user_row(row));
  }
  co_return page;
}

}  // namespace user_service::repositories
