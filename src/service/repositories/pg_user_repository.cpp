#include "service/repositories/pg_user_repository.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kit/db/errors.hpp"
#include "kit/db/pg/timestamp.hpp"
#include "kit/util/uuid.hpp"
#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/timestamps.hpp"
#include "service/repositories/user_rows.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::repositories {
namespace {

using boost::asio::awaitable;
using kit::db::pg::Params;
using kit::db::pg::Result;
using kit::db::pg::Retry;
using kit::db::pg::Statement;

// A verification token (docs/account-emails.md) for the user the CTE `u` returned, when the
// text parameter `hash` is not NULL.
#define PG_WRITE_VERIFICATION(hash, at, expires)                                        \
  "t AS (INSERT INTO account_tokens (token_hash, purpose, user_id, email, created_at, " \
  "expires_at) SELECT " hash ", 'verify_email', u.id, u.email, " at ", " expires        \
  " FROM u WHERE " hash "::text IS NOT NULL)"

// The user, its verification token and its events (docs/events.md) in one statement: one round
// trip, one transaction.
const Statement kInsert{
    "users_insert",
    "WITH u AS (INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at, "
    "email_verified) VALUES ($1, $2, $3, $4, $5, $6, $6, $8) RETURNING " USER_COLUMNS
    "), " PG_WRITE_OUTBOX("$7", "$6::timestamptz", "u") ", " PG_WRITE_VERIFICATION(
        "$9", "$6::timestamptz", "$10::timestamptz") " SELECT " USER_COLUMNS " FROM u"};
const Statement kFindById{"users_find_by_id", "SELECT " USER_COLUMNS " FROM users WHERE id = $1",
                          true};
// The caller of an authenticated request (find_caller): the user only while the session its
// token names is active, both primary-key lookups in one statement (docs/sessions.md). With
// another id it is `IN ($1, $4)`: a fixed number of parameters lets the server keep one generic
// plan, while a uuid[] parameter made it plan again on every execution (pgbench, 4 clients:
// 47k tps for IN ($1, $2) against 29k for = ANY($1::uuid[])).
#define ACTIVE_SESSION                                                                    \
  "EXISTS (SELECT 1 FROM sessions s WHERE s.id = $2 AND s.user_id = $1 AND s.revoked_at " \
  "IS NULL AND s.expires_at > $3::timestamptz)"
const Statement kFindCaller{"users_find_caller",
                            "SELECT " USER_COLUMNS " FROM users WHERE id = $1 AND " ACTIVE_SESSION,
                            true};
const Statement kFindCallerAnd{
    "users_find_caller_and",
    "SELECT " USER_COLUMNS " FROM users WHERE id IN ($1, $4) AND " ACTIVE_SESSION, true};
#undef ACTIVE_SESSION
// Emails are stored and looked up in their normalized form (schemas::normalize_email) and
// compared exactly: the unique index users_email_key is on the plain column, so this is an
// index lookup, and no lower() folds differently from the application (or from SQLite).
const Statement kFindByEmail{"users_find_by_email",
                             "SELECT " USER_COLUMNS " FROM users WHERE email = $1", true};
// Absent fields are NULL parameters and keep their value: one statement, one round trip.
// With the change's events, written only when the user exists.
// A new email is unverified (docs/account-emails.md); its verification token rides along.
#define SET_FIELDS                                                                            \
  "email = COALESCE($2, email), name = COALESCE($3, name), "                                  \
  "password_hash = COALESCE($4, password_hash), role = COALESCE($5, role), updated_at = $6, " \
  "email_verified = CASE WHEN $2::text IS NOT NULL AND $2::text <> email THEN false ELSE "    \
  "email_verified END"
const Statement kUpdate{
    "users_update",
    "WITH u AS (UPDATE users SET " SET_FIELDS " WHERE id = $1 RETURNING " USER_COLUMNS
    "), " PG_WRITE_OUTBOX("$7", "$6::timestamptz", "u") ", " PG_WRITE_VERIFICATION(
        "$8", "$6::timestamptz", "$9::timestamptz") " SELECT " USER_COLUMNS " FROM u"};
// The same, and the user's other sessions revoked, in one statement (UserUpdate).
const Statement kUpdateRevoking{
    "users_update_revoking",
    "WITH u AS (UPDATE users SET " SET_FIELDS " WHERE id = $1 RETURNING " USER_COLUMNS "), "
    "r AS (UPDATE sessions SET revoked_at = $6, revoke_reason = 'password_changed' "
    "WHERE user_id = $1 AND id <> $8::uuid AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM u) "
    "RETURNING id, user_id), " PG_WRITE_OUTBOX(
        "$7", "$6::timestamptz",
        "u") ", " PG_WRITE_SESSION_REVOKED("r", "$6::timestamptz", "$9", "'password_changed'",
                                           "$10") ", " PG_WRITE_VERIFICATION("$11", "$6::timestamptz",
                                                                             "$12::timestamptz")
    " SELECT " USER_COLUMNS " FROM u"};
#undef SET_FIELDS
#undef PG_WRITE_VERIFICATION
// Counts the deleted row; its events are written only when there was one.
const Statement kDelete{
    "users_delete", "WITH d AS (DELETE FROM users WHERE id = $1 RETURNING id), " PG_WRITE_OUTBOX(
                        "$2", "$3::timestamptz", "d") " SELECT count(*) FROM d"};
// Keyset pagination on the (created_at DESC, id DESC) index; one extra row tells whether
// another page follows.
const Statement kListFirst{"users_list_first",
                           "SELECT " USER_COLUMNS
                           " FROM users ORDER BY created_at DESC, id DESC "
                           "LIMIT $1",
                           true};
const Statement kListAfter{"users_list_after",
                           "SELECT " USER_COLUMNS
                           " FROM users WHERE (created_at, id) < ($1::timestamptz, $2::uuid) "
                           "ORDER BY created_at DESC, id DESC LIMIT $3",
                           true};

// The verification token's two parameters (NULL: none).
void add_verification(Params& params, const std::optional<NewAccountToken>& token) {
  if (token) {
    params.emplace_back(token->hash);
    params.emplace_back(kit::db::pg::format_timestamp(token->expires_at));
  } else {
    params.emplace_back(std::nullopt);
    params.emplace_back(std::nullopt);
  }
}

std::optional<domain::User> first_user(const Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return pg_user_row(r, 0);
}

}  // namespace

// Retries and create(): an INSERT whose connection drops after sending may or may not have
// committed. Blindly replaying an INSERT is usually wrong, but here the id is generated by the
// caller (random UUID), so the replay of a committed insert fails on the primary key (or on
// the email index) instead of creating a second row. On any unique violation we therefore look
// the id up: a row with OUR id can only be our own earlier attempt, and we return it; otherwise
// the email belongs to someone else. This makes create() idempotent, so it runs with
// Retry::safe and a lost acknowledgement does not turn into a spurious 503 or 409.
awaitable<domain::User> PgUserRepository::create(const NewUser& user,
                                                 kit::async::Deadline deadline) {
  Params params{user.id,
                schemas::normalize_email(user.email),
                user.name,
                user.password_hash,
                std::string(domain::to_string(user.role)),
                kit::db::pg::format_timestamp(user.created_at),
                pg_outbox_rows(user.outbox),
                std::string(user.email_verified ? "true" : "false")};
  add_verification(params, user.verification);
  std::optional<kit::db::UniqueViolation> violation;
  try {
    Result r = co_await pool_.query(kInsert, std::move(params), Retry::safe, deadline);
    co_return pg_user_row(r, 0);
  } catch (const kit::db::UniqueViolation& e) {
    violation = e;
  }
  auto existing = co_await find_by_id(user.id, deadline);
  if (existing && existing->email == schemas::normalize_email(user.email)) {
    co_return *existing;  // our own replay
  }
  if (violation->constraint() == "users_email_key") throw EmailTaken();
  // Another row has this id: not an email conflict, and not something to hide.
  throw *violation;
}

awaitable<std::optional<domain::User>> PgUserRepository::find_by_id(std::string_view id,
                                                                    kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(id)) co_return std::nullopt;
  Params params{std::string(id)};  // named: GCC 12 rejects braced lists inside co_await
  Result r = co_await pool_.query(kFindById, std::move(params), Retry::safe, deadline);
  co_return first_user(r);
}

awaitable<CallerRead> PgUserRepository::find_caller(const domain::SessionKey& key,
                                                    domain::Timestamp now,
                                                    std::optional<std::string_view> other,
                                                    kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(key.user_id) || !kit::util::is_uuid(key.session_id)) {
    co_return CallerRead{};
  }
  if (other && !kit::util::is_uuid(*other)) other.reset();
  Params params{key.user_id, key.session_id, kit::db::pg::format_timestamp(now)};
  if (other) params.emplace_back(std::string(*other));
  Result r = co_await pool_.query(other ? kFindCallerAnd : kFindCaller, std::move(params),
                                  Retry::safe, deadline);
  std::vector<domain::User> users;
  for (int i = 0; i < r.rows(); ++i) users.push_back(pg_user_row(r, i));
  co_return caller_read(std::move(users), key.user_id, other);
}

awaitable<std::optional<domain::User>> PgUserRepository::find_by_email(
    std::string_view email, kit::async::Deadline deadline) {
  Params params{schemas::normalize_email(email)};
  Result r = co_await pool_.query(kFindByEmail, std::move(params), Retry::safe, deadline);
  co_return first_user(r);
}

// Idempotent given the id: replaying sets the same values (updated_at comes from the caller).
awaitable<std::optional<domain::User>> PgUserRepository::update(std::string_view id,
                                                                const UserUpdate& update,
                                                                kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(id)) co_return std::nullopt;
  Params params{
      std::string(id),
      update.email ? std::optional<std::string>(schemas::normalize_email(*update.email))
                   : std::nullopt,
      update.name,
      update.password_hash,
      update.role ? std::optional<std::string>(domain::to_string(*update.role)) : std::nullopt,
      kit::db::pg::format_timestamp(update.updated_at),
      pg_outbox_rows(update.outbox)};
  const bool revoking =
      update.revoke_sessions_except && kit::util::is_uuid(*update.revoke_sessions_except);
  if (revoking) {
    params.emplace_back(*update.revoke_sessions_except);
    params.emplace_back(format_timestamp(update.updated_at));
    params.emplace_back(destinations_);
  }
  add_verification(params, update.verification);
  bool taken = false;
  try {
    Result r = co_await pool_.query(revoking ? kUpdateRevoking : kUpdate, std::move(params),
                                    Retry::safe, deadline);
    co_return first_user(r);
  } catch (const kit::db::UniqueViolation&) {
    taken = true;
  }
  if (taken) throw EmailTaken();
  co_return std::nullopt;
}

// Idempotent given the id. The one ambiguity: if a first attempt committed but its answer was
// lost, the replay deletes nothing and reports false although the user is gone — the end state
// is what the caller asked for.
awaitable<bool> PgUserRepository::remove(std::string_view id, kit::async::Deadline deadline,
                                         std::vector<kit::outbox::Message> outbox) {
  if (!kit::util::is_uuid(id)) co_return false;
  Params params{
      std::string(id), pg_outbox_rows(outbox),
      kit::db::pg::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now()))};
  Result r = co_await pool_.query(kDelete, std::move(params), Retry::safe, deadline);
  co_return r.rows() > 0 && r.get(0, 0).value_or("0") != "0";
}

awaitable<Page> PgUserRepository::list(std::size_t limit, std::optional<PageCursor> after,
                                       kit::async::Deadline deadline) {
  const std::string fetch = std::to_string(limit + 1);
  Result r;
  if (after) {
    if (!kit::util::is_uuid(after->id)) throw std::invalid_argument("page cursor id is not a UUID");
    if (!is_storable(after->created_at)) throw std::out_of_range("page cursor time out of range");
    Params params{kit::db::pg::format_timestamp(after->created_at), after->id, fetch};
    r = co_await pool_.query(kListAfter, std::move(params), Retry::safe, deadline);
  } else {
    Params params{fetch};
    r = co_await pool_.query(kListFirst, std::move(params), Retry::safe, deadline);
  }
  Page page;
  const int rows = r.rows();
  for (int i = 0; i < rows && page.items.size() < limit; ++i)
    page.items.push_back(pg_user_row(r, i));
  if (static_cast<std::size_t>(rows) > limit && !page.items.empty()) {
    page.next = PageCursor{page.items.back().created_at, page.items.back().id};
  }
  co_return page;
}

}  // namespace user_service::repositories
