#include "service/repositories/pg_session_repository.hpp"

#include <string>

#include "kit/db/errors.hpp"
#include "kit/db/pg/timestamp.hpp"
#include "kit/util/uuid.hpp"
#include "service/repositories/pg_cells.hpp"
#include "service/repositories/timestamps.hpp"

namespace user_service::repositories {
namespace {

using boost::asio::awaitable;
using kit::db::pg::Params;
using kit::db::pg::Result;
using kit::db::pg::Retry;
using kit::db::pg::Statement;

const Statement kCreate{
    "sessions_create",
    "WITH s AS (INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, "
    "max_expires_at, user_agent, client_ip) VALUES ($1, $2, $3, $3, $4, $5, $6, $7) RETURNING id) "
    "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) SELECT $8, id, $3 FROM s"};
// The UPDATE of the presented token takes its row lock: a concurrent rotation of the same token
// waits, then re-checks `spent_at IS NULL`, finds it spent and changes nothing.
const Statement kRotate{
    "sessions_rotate",
    "WITH spent AS (UPDATE refresh_tokens r SET spent_at = $2, successor_hash = $3, "
    "successor_enc = $4 FROM sessions s WHERE r.token_hash = $1 AND r.spent_at IS NULL AND "
    "s.id = r.session_id AND s.revoked_at IS NULL AND s.expires_at > $2 RETURNING r.session_id), "
    "fresh AS (INSERT INTO refresh_tokens (token_hash, session_id, issued_at) "
    "SELECT $3, session_id, $2 FROM spent), "
    "moved AS (UPDATE sessions SET expires_at = LEAST(max_expires_at, $5::timestamptz), "
    "last_used_at = GREATEST(last_used_at, $2::timestamptz) "
    "WHERE id IN (SELECT session_id FROM spent) RETURNING id, user_id, expires_at) "
    "SELECT id, user_id, expires_at FROM moved"};
const Statement kFindRefresh{
    "sessions_find_refresh",
    "SELECT r.session_id, s.user_id, (s.revoked_at IS NULL AND s.expires_at > $2) AS active, "
    "s.expires_at, r.spent_at, r.successor_enc, n.spent_at IS NOT NULL AS successor_spent "
    "FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id "
    "LEFT JOIN refresh_tokens n ON n.token_hash = r.successor_hash WHERE r.token_hash = $1",
    true};
#define ACTIVE "revoked_at IS NULL AND expires_at > $2"
// Each revocation writes its session.revoked events in the same statement (docs/events.md);
// $4 is the time as text, $5 the destinations.
#define REVOKED(where)                                                                             \
  "WITH r AS (UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE " where " AND " ACTIVE \
  " RETURNING id, user_id), " PG_WRITE_SESSION_REVOKED("r", "$2::timestamptz", "$4", "$3",         \
                                                       "$5") " SELECT count(*) FROM r"
const Statement kRevoke{"sessions_revoke", REVOKED("id = $1")};
const Statement kRevokeOwned{"sessions_revoke_owned", REVOKED("id = $1 AND user_id = $6")};
const Statement kRevokeAll{"sessions_revoke_all", REVOKED("user_id = $1")};
const Statement kRevokeAllBut{"sessions_revoke_all_but", REVOKED("user_id = $1 AND id <> $6")};
#undef REVOKED
const Statement kList{"sessions_list",
                      "SELECT id, user_id, created_at, last_used_at, expires_at, user_agent, "
                      "client_ip FROM sessions WHERE user_id = $1 AND " ACTIVE
                      " ORDER BY created_at DESC, id DESC LIMIT $3",
                      true};
#undef ACTIVE
// One statement for a whole batch of last uses; never moves a time back.
const Statement kTouch{
    "sessions_touch",
    "UPDATE sessions s SET last_used_at = u.at FROM unnest($1::uuid[], "
    "$2::timestamptz[]) AS u(id, at) WHERE s.id = u.id AND s.last_used_at < u.at"};
// SKIP LOCKED: replicas purging at the same time take different rows instead of waiting.
const Statement kPurgeSessions{
    "sessions_purge",
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= $1 OR "
    "revoked_at IS NOT NULL LIMIT $2 FOR UPDATE SKIP LOCKED)"};
const Statement kPurgeSpent{
    "sessions_purge_spent",
    "DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM refresh_tokens "
    "WHERE spent_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"};
const Statement kCountActive{
    "sessions_count_active",
    "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1", true};

using pg_cells::text;
using pg_cells::timestamp;

std::string ts(domain::Timestamp t) {
  return kit::db::pg::format_timestamp(t);
}

// The count(*) a revocation statement returns.
std::int64_t revoked_count(const Result& r) {
  return r.rows() > 0 ? std::stoll(std::string(r.get(0, 0).value_or("0"))) : 0;
}

}  // namespace

// Not replayed after the statement reached the server: the refresh token would be stored twice
// (a primary-key violation) while the client holds one answer.
awaitable<void> PgSessionRepository::create(const NewSession& s, kit::async::Deadline deadline) {
  Params params{s.id,         s.user_id,   ts(s.created_at), ts(s.expires_at), ts(s.max_expires_at),
                s.user_agent, s.client_ip, s.refresh_hash};
  co_await pool_.query(kCreate, std::move(params), Retry::never, deadline);
}

awaitable<std::optional<RotatedSession>> PgSessionRepository::rotate(
    const Rotation& rotation, kit::async::Deadline deadline) {
  Params params{rotation.token_hash, ts(rotation.now), rotation.successor_hash,
                rotation.successor_enc, ts(rotation.expires_at)};
  Result r = co_await pool_.query(kRotate, std::move(params), Retry::never, deadline);
  if (r.rows() == 0) co_return std::nullopt;
  co_return RotatedSession{text(r, 0, 0), text(r, 0, 1), timestamp(r, 0, 2)};
}

awaitable<std::optional<RefreshTokenState>> PgSessionRepository::find_refresh(
    std::string_view token_hash, domain::Timestamp now, kit::async::Deadline deadline) {
  Params params{std::string(token_hash), ts(now)};
  Result r = co_await pool_.query(kFindRefresh, std::move(params), Retry::safe, deadline);
  if (r.rows() == 0) co_return std::nullopt;
  RefreshTokenState state;
  state.session_id = text(r, 0, 0);
  state.user_id = text(r, 0, 1);
  state.session_active = text(r, 0, 2) == "t";
  state.expires_at = timestamp(r, 0, 3);
  if (r.get(0, 4)) state.spent_at = timestamp(r, 0, 4);
  state.successor_enc = text(r, 0, 5);
  state.successor_spent = text(r, 0, 6) == "t";
  co_return state;
}

// Idempotent: a replay finds the session revoked and reports false, the end state asked for.
awaitable<bool> PgSessionRepository::revoke(std::string_view session_id,
                                            std::optional<std::string_view> owner,
                                            domain::Timestamp now, std::string_view reason,
                                            kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(session_id)) co_return false;
  if (owner && !kit::util::is_uuid(*owner)) co_return false;
  Params params{std::string(session_id), ts(now), std::string(reason), format_timestamp(now),
                destinations_};
  if (owner) params.emplace_back(std::string(*owner));
  Result r = co_await pool_.query(owner ? kRevokeOwned : kRevoke, std::move(params), Retry::safe,
                                  deadline);
  co_return revoked_count(r) > 0;
}

awaitable<std::int64_t> PgSessionRepository::revoke_all(std::string_view user_id,
                                                        domain::Timestamp now,
                                                        std::string_view reason,
                                                        std::optional<std::string_view> keep,
                                                        kit::async::Deadline deadline) {
  if (!kit::util::is_uuid(user_id)) co_return 0;
  if (keep && !kit::util::is_uuid(*keep)) keep.reset();
  Params params{std::string(user_id), ts(now), std::string(reason), format_timestamp(now),
                destinations_};
  if (keep) params.emplace_back(std::string(*keep));
  Result r = co_await pool_.query(keep ? kRevokeAllBut : kRevokeAll, std::move(params), Retry::safe,
                                  deadline);
  co_return revoked_count(r);
}

awaitable<std::vector<domain::Session>> PgSessionRepository::list_active(
    std::string_view user_id, domain::Timestamp now, kit::async::Deadline deadline) {
  std::vector<domain::Session> sessions;
  if (!kit::util::is_uuid(user_id)) co_return sessions;
  Params params{std::string(user_id), ts(now), std::to_string(kMaxListed)};
  Result r = co_await pool_.query(kList, std::move(params), Retry::safe, deadline);
  for (int i = 0; i < r.rows(); ++i) {
    sessions.push_back(domain::Session{text(r, i, 0), text(r, i, 1), timestamp(r, i, 2),
                                       timestamp(r, i, 3), timestamp(r, i, 4), text(r, i, 5),
                                       text(r, i, 6)});
  }
  co_return sessions;
}

awaitable<void> PgSessionRepository::touch(std::span<const SessionUse> uses) {
  if (uses.empty()) co_return;
  // Array literals: UUIDs need no quoting, timestamps (with a space) are double-quoted.
  std::string ids = "{";
  std::string times = "{";
  for (const SessionUse& use : uses) {
    if (!kit::util::is_uuid(use.session_id)) continue;
    if (ids.size() > 1) {
      ids += ',';
      times += ',';
    }
    ids += use.session_id;
    times += '"' + ts(use.at) + '"';
  }
  ids += '}';
  times += '}';
  Params params{std::move(ids), std::move(times)};
  co_await pool_.query(kTouch, std::move(params), Retry::safe);
}

awaitable<std::int64_t> PgSessionRepository::purge(domain::Timestamp now,
                                                   domain::Timestamp spent_before,
                                                   std::size_t limit) {
  Params sessions{ts(now), std::to_string(limit)};
  Result a = co_await pool_.query(kPurgeSessions, std::move(sessions), Retry::safe);
  Params spent{ts(spent_before), std::to_string(limit)};
  Result b = co_await pool_.query(kPurgeSpent, std::move(spent), Retry::safe);
  co_return static_cast<std::int64_t>(a.affected_rows() + b.affected_rows());
}

awaitable<std::int64_t> PgSessionRepository::count_active(domain::Timestamp now) {
  Params params{ts(now)};
  Result r = co_await pool_.query(kCountActive, std::move(params), Retry::safe);
  co_return std::stoll(text(r, 0, 0));
}

}  // namespace user_service::repositories
