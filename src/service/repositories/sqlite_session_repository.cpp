#include "service/repositories/sqlite_session_repository.hpp"

#include <string>

#include "kit/db/errors.hpp"
#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/sqlite_outbox_store.hpp"
#include "service/repositories/timestamps.hpp"

namespace user_service::repositories {
namespace {

using kit::db::sqlite::Connection;
using kit::db::sqlite::Row;
using kit::db::sqlite::Rows;
using kit::db::sqlite::Value;

constexpr const char* kInsertSession =
    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, max_expires_at, "
    "user_agent, client_ip) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kInsertToken =
    "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES (?1, ?2, ?3)";
constexpr const char* kSpend =
    "UPDATE refresh_tokens SET spent_at = ?2, successor_hash = ?3, successor_enc = ?4 "
    "WHERE token_hash = ?1 AND spent_at IS NULL AND session_id IN (SELECT id FROM sessions "
    "WHERE revoked_at IS NULL AND expires_at > ?2) RETURNING session_id";
constexpr const char* kMove =
    "UPDATE sessions SET expires_at = min(max_expires_at, ?2), "
    "last_used_at = max(last_used_at, ?3) WHERE id = ?1 RETURNING id, user_id, expires_at";
constexpr const char* kFindRefresh =
    "SELECT r.session_id, s.user_id, (s.revoked_at IS NULL AND s.expires_at > ?2), "
    "s.expires_at, r.spent_at, coalesce(r.successor_enc, ''), n.spent_at IS NOT NULL "
    "FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id "
    "LEFT JOIN refresh_tokens n ON n.token_hash = r.successor_hash WHERE r.token_hash = ?1";
#define ACTIVE " revoked_at IS NULL AND expires_at > ?2"
// The revoked sessions, for their session.revoked events (docs/events.md).
#define RETURNING " RETURNING id, user_id"
constexpr const char* kRevoke =
    "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND" ACTIVE RETURNING;
constexpr const char* kRevokeOwned =
    "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND user_id = ?4 "
    "AND" ACTIVE RETURNING;
constexpr const char* kRevokeAll =
    "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3 WHERE user_id = ?1 AND" ACTIVE
        RETURNING;
constexpr const char* kRevokeAllBut =
    "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3 WHERE user_id = ?1 AND id <> ?4 "
    "AND" ACTIVE RETURNING;
constexpr const char* kList =
    "SELECT id, user_id, created_at, last_used_at, expires_at, user_agent, client_ip "
    "FROM sessions WHERE user_id = ?1 AND" ACTIVE " ORDER BY created_at DESC, id DESC LIMIT ?3";
#undef ACTIVE
#undef RETURNING
constexpr const char* kTouch =
    "UPDATE sessions SET last_used_at = ?2 WHERE id = ?1 AND last_used_at < ?2";
constexpr const char* kPurgeSessions =
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= ?1 OR "
    "revoked_at IS NOT NULL LIMIT ?2)";
constexpr const char* kPurgeSpent =
    "DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM refresh_tokens "
    "WHERE spent_at < ?1 LIMIT ?2)";
constexpr const char* kCountActive =
    "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1";

domain::Timestamp timestamp_cell(const Row& row, std::size_t i) {
  auto ts = parse_timestamp(row.text(i));
  if (!ts) throw kit::db::QueryError("sqlite:data", "sessions row has a malformed timestamp");
  return *ts;
}

}  // namespace

boost::asio::awaitable<void> SqliteSessionRepository::create(const NewSession& s,
                                                             kit::async::Deadline deadline) {
  deadline.check();
  // The body is a named local: GCC 12 destroys a lambda temporary inside co_await twice.
  auto body = [s](Connection& c) {
    const std::string created = format_timestamp(s.created_at);
    const Value session[] = {s.id,
                             s.user_id,
                             created,
                             format_timestamp(s.expires_at),
                             format_timestamp(s.max_expires_at),
                             s.user_agent,
                             s.client_ip};
    c.execute(kInsertSession, session);
    const Value token[] = {s.refresh_hash, s.id, created};
    c.execute(kInsertToken, token);
  };
  co_await db_.transaction(std::move(body), deadline);
}

boost::asio::awaitable<std::optional<RotatedSession>> SqliteSessionRepository::rotate(
    const Rotation& rotation, kit::async::Deadline deadline) {
  deadline.check();
  auto body = [rotation](Connection& c) -> std::optional<RotatedSession> {
    const std::string now = format_timestamp(rotation.now);
    const Value spend[] = {rotation.token_hash, now, rotation.successor_hash,
                           rotation.successor_enc};
    const Rows spent = c.query(kSpend, spend);
    if (spent.empty()) return std::nullopt;
    const std::string session_id = spent[0].text(0);
    const Value token[] = {rotation.successor_hash, session_id, now};
    c.execute(kInsertToken, token);
    const Value move[] = {session_id, format_timestamp(rotation.expires_at), now};
    const Rows moved = c.query(kMove, move);
    if (moved.empty()) throw kit::db::QueryError("sqlite:data", "rotated session vanished");
    return RotatedSession{moved[0].text(0), moved[0].text(1), timestamp_cell(moved[0], 2)};
  };
  co_return co_await db_.transaction(std::move(body), deadline);
}

boost::asio::awaitable<std::optional<RefreshTokenState>> SqliteSessionRepository::find_refresh(
    std::string_view token_hash, domain::Timestamp now, kit::async::Deadline deadline) {
  std::vector<Value> params{std::string(token_hash), format_timestamp(now)};
  const Rows rows = co_await db_.query(kFindRefresh, std::move(params), deadline);
  if (rows.empty()) co_return std::nullopt;
  const Row& row = rows[0];
  RefreshTokenState state;
  state.session_id = row.text(0);
  state.user_id = row.text(1);
  state.session_active = row.int64(2) != 0;
  state.expires_at = timestamp_cell(row, 3);
  if (!row.is_null(4)) state.spent_at = timestamp_cell(row, 4);
  state.successor_enc = row.text(5);
  state.successor_spent = row.int64(6) != 0;
  co_return state;
}

// The revocation and its session.revoked events (docs/events.md) in one transaction.
boost::asio::awaitable<std::int64_t> SqliteSessionRepository::revoke_where(
    const char* sql, std::vector<Value> params, domain::Timestamp now, std::string_view reason,
    kit::async::Deadline deadline) {
  deadline.check();
  auto body = [this, sql, &params, now, reason](Connection& c) {
    const Rows revoked = c.query(sql, params);
    for (const Row& row : revoked) {
      write_outbox(c, session_revoked(destinations_, row.text(0), row.text(1), reason, now), now);
    }
    return static_cast<std::int64_t>(revoked.size());
  };
  co_return co_await db_.transaction(std::move(body), deadline);
}

boost::asio::awaitable<bool> SqliteSessionRepository::revoke(std::string_view session_id,
                                                             std::optional<std::string_view> owner,
                                                             domain::Timestamp now,
                                                             std::string_view reason,
                                                             kit::async::Deadline deadline) {
  std::vector<Value> params{std::string(session_id), format_timestamp(now), std::string(reason)};
  if (owner) params.emplace_back(std::string(*owner));
  co_return co_await revoke_where(owner ? kRevokeOwned : kRevoke, std::move(params), now, reason,
                                  deadline) > 0;
}

boost::asio::awaitable<std::int64_t> SqliteSessionRepository::revoke_all(
    std::string_view user_id, domain::Timestamp now, std::string_view reason,
    std::optional<std::string_view> keep, kit::async::Deadline deadline) {
  std::vector<Value> params{std::string(user_id), format_timestamp(now), std::string(reason)};
  if (keep) params.emplace_back(std::string(*keep));
  co_return co_await revoke_where(keep ? kRevokeAllBut : kRevokeAll, std::move(params), now, reason,
                                  deadline);
}

boost::asio::awaitable<std::vector<domain::Session>> SqliteSessionRepository::list_active(
    std::string_view user_id, domain::Timestamp now, kit::async::Deadline deadline) {
  std::vector<Value> params{std::string(user_id), format_timestamp(now),
                            static_cast<std::int64_t>(kMaxListed)};
  const Rows rows = co_await db_.query(kList, std::move(params), deadline);
  std::vector<domain::Session> sessions;
  sessions.reserve(rows.size());
  for (const Row& row : rows) {
    sessions.push_back(domain::Session{row.text(0), row.text(1), timestamp_cell(row, 2),
                                       timestamp_cell(row, 3), timestamp_cell(row, 4), row.text(5),
                                       row.text(6)});
  }
  co_return sessions;
}

boost::asio::awaitable<void> SqliteSessionRepository::touch(std::span<const SessionUse> uses) {
  if (uses.empty()) co_return;
  std::vector<SessionUse> batch(uses.begin(), uses.end());
  auto body = [batch = std::move(batch)](Connection& c) {
    for (const SessionUse& use : batch) {
      const Value params[] = {use.session_id, format_timestamp(use.at)};
      c.execute(kTouch, params);
    }
  };
  co_await db_.transaction(std::move(body));
}

boost::asio::awaitable<std::int64_t> SqliteSessionRepository::purge(domain::Timestamp now,
                                                                    domain::Timestamp spent_before,
                                                                    std::size_t limit) {
  const auto bound = static_cast<std::int64_t>(limit);
  std::vector<Value> sessions{format_timestamp(now), bound};
  const std::int64_t a = co_await db_.execute(kPurgeSessions, std::move(sessions));
  std::vector<Value> spent{format_timestamp(spent_before), bound};
  const std::int64_t b = co_await db_.execute(kPurgeSpent, std::move(spent));
  co_return a + b;
}

boost::asio::awaitable<std::int64_t> SqliteSessionRepository::count_active(domain::Timestamp now) {
  std::vector<Value> params{format_timestamp(now)};
  const Rows rows = co_await db_.query(kCountActive, std::move(params));
  co_return rows.empty() ? 0 : rows[0].int64(0);
}

}  // namespace user_service::repositories
