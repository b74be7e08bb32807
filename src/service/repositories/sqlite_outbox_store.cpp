#include "service/repositories/sqlite_outbox_store.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <string>

#include "kit/db/errors.hpp"
#include "kit/util/text.hpp"
#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/timestamps.hpp"

namespace user_service::repositories {
namespace {

using kit::db::sqlite::Connection;
using kit::db::sqlite::Row;
using kit::db::sqlite::Rows;
using kit::db::sqlite::Value;
using kit::outbox::Claimed;
using kit::outbox::Timestamp;

constexpr const char* kInsert =
    "INSERT INTO outbox (id, destination, ordering_key, type, payload, state, created_at, "
    "next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
// The rows due for `destination`, oldest first, each only while no earlier row of its ordering
// key is still pending (delivery in order per key), leased in the same statement. The literal
// `state = 'pending'` lets SQLite use the partial indexes.
constexpr const char* kClaim =
    "UPDATE outbox SET claimed_until = ?4, attempts = attempts + 1 WHERE seq IN ("
    "SELECT o.seq FROM outbox o WHERE o.destination = ?1 AND o.state = 'pending' "
    "AND o.next_attempt_at <= ?2 AND (o.claimed_until IS NULL OR o.claimed_until <= ?2) "
    "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination "
    "AND p.ordering_key = o.ordering_key AND p.state = 'pending' AND p.seq < o.seq) "
    "ORDER BY o.seq LIMIT ?3) "
    "RETURNING seq, id, destination, ordering_key, type, payload, created_at, attempts";
// The lease is the claim's token: a dispatcher whose lease ran out, and whose row another
// claimed since, matches nothing.
#define LEASED " WHERE seq = ?1 AND claimed_until = ?2 AND state = 'pending'"
constexpr const char* kDelivered =
    "UPDATE outbox SET state = 'delivered', finished_at = ?3, claimed_until = "
    "NULL, " OUTBOX_ERASE_EMAIL_BODY LEASED;
constexpr const char* kReschedule =
    "UPDATE outbox SET next_attempt_at = ?3, last_error = ?4, claimed_until = NULL" LEASED;
constexpr const char* kRelease =
    "UPDATE outbox SET claimed_until = NULL, attempts = attempts - 1" LEASED;
constexpr const char* kDead =
    "UPDATE outbox SET state = 'dead', finished_at = ?3, last_error = ?4, " OUTBOX_ERASE_EMAIL_BODY
    ", "
    "claimed_until = NULL" LEASED;
#undef LEASED
// A leased row is left to its dispatcher, which marks it itself; once the lease has run out
// the next expiry takes it.
constexpr const char* kExpire =
    "UPDATE outbox SET state = 'dead', finished_at = ?2, last_error = "
    "'expired', " OUTBOX_ERASE_EMAIL_BODY
    ", "
    "claimed_until = NULL WHERE state = 'pending' AND created_at < ?1 "
    "AND (claimed_until IS NULL OR claimed_until <= ?2) RETURNING destination";
constexpr const char* kStats =
    "SELECT count(*), min(created_at) FROM outbox WHERE state = 'pending'";
constexpr const char* kPurge =
    "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE finished_at < ?1 "
    "AND state IN ('delivered', 'dead') LIMIT ?2)";

Timestamp timestamp_cell(const Row& row, std::size_t i) {
  auto ts = parse_timestamp(row.text(i));
  if (!ts) throw kit::db::QueryError("sqlite:data", "outbox row has a malformed timestamp");
  return *ts;
}

std::int64_t bound(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(limit, kMax));
}

}  // namespace

void write_outbox(Connection& c, std::span<const kit::outbox::Message> messages,
                  domain::Timestamp now) {
  if (messages.empty()) return;
  const std::string created = format_timestamp(now);
  for (const kit::outbox::Message& m : messages) {
    const bool kept = m.destination == kit::outbox::kKept;
    // UUIDs are stored in lower case (migrations/sqlite/0004_outbox.sql).
    const Value row[] = {
        kit::util::ascii_lowercase(m.id),       m.destination, m.ordering_key, m.type, m.payload,
        std::string(kept ? "kept" : "pending"), created};
    c.execute(kInsert, row);
  }
}

boost::asio::awaitable<std::vector<Claimed>> SqliteOutboxStore::claim(
    std::string_view destination, std::size_t limit, Timestamp now,
    std::chrono::milliseconds lease) {
  std::vector<Claimed> claimed;
  if (limit == 0) co_return claimed;
  const Timestamp lease_until = now + lease;
  std::vector<Value> params{std::string(destination), format_timestamp(now), bound(limit),
                            format_timestamp(lease_until)};
  const Rows rows = co_await db_.execute_returning(kClaim, std::move(params));
  claimed.reserve(rows.size());
  for (const Row& row : rows) {
    Claimed c;
    c.seq = row.int64(0);
    c.id = row.text(1);
    c.destination = row.text(2);
    c.ordering_key = row.text(3);
    c.type = row.text(4);
    c.payload = row.text(5);
    c.created_at = timestamp_cell(row, 6);
    c.attempts = static_cast<int>(row.int64(7));
    c.lease_until = lease_until;
    claimed.push_back(std::move(c));
  }
  // RETURNING follows no ORDER BY.
  std::sort(claimed.begin(), claimed.end(),
            [](const Claimed& a, const Claimed& b) { return a.seq < b.seq; });
  co_return claimed;
}

boost::asio::awaitable<void> SqliteOutboxStore::mark_delivered(const Claimed& row, Timestamp now) {
  std::vector<Value> params{row.seq, format_timestamp(row.lease_until), format_timestamp(now)};
  co_await db_.execute(kDelivered, std::move(params));
}

boost::asio::awaitable<void> SqliteOutboxStore::reschedule(const Claimed& row,
                                                           Timestamp next_attempt,
                                                           std::string_view error) {
  std::vector<Value> params{row.seq, format_timestamp(row.lease_until),
                            format_timestamp(next_attempt), outbox_error_text(error)};
  co_await db_.execute(kReschedule, std::move(params));
}

boost::asio::awaitable<void> SqliteOutboxStore::release(const Claimed& row) {
  std::vector<Value> params{row.seq, format_timestamp(row.lease_until)};
  co_await db_.execute(kRelease, std::move(params));
}

boost::asio::awaitable<void> SqliteOutboxStore::mark_dead(const Claimed& row, Timestamp now,
                                                          std::string_view error) {
  std::vector<Value> params{row.seq, format_timestamp(row.lease_until), format_timestamp(now),
                            outbox_error_text(error)};
  co_await db_.execute(kDead, std::move(params));
}

boost::asio::awaitable<std::vector<std::pair<std::string, std::int64_t>>> SqliteOutboxStore::expire(
    Timestamp created_before, Timestamp now) {
  std::vector<Value> params{format_timestamp(created_before), format_timestamp(now)};
  const Rows rows = co_await db_.execute_returning(kExpire, std::move(params));
  std::map<std::string, std::int64_t> per_destination;
  for (const Row& row : rows) ++per_destination[row.text(0)];
  co_return std::vector<std::pair<std::string, std::int64_t>>(per_destination.begin(),
                                                              per_destination.end());
}

boost::asio::awaitable<kit::outbox::Stats> SqliteOutboxStore::stats() {
  const Rows rows = co_await db_.query(kStats);
  kit::outbox::Stats stats;
  if (rows.empty()) co_return stats;
  stats.pending = rows[0].int64(0);
  if (!rows[0].is_null(1)) stats.oldest = timestamp_cell(rows[0], 1);
  co_return stats;
}

boost::asio::awaitable<std::int64_t> SqliteOutboxStore::purge(Timestamp finished_before,
                                                              std::size_t limit) {
  if (limit == 0) co_return 0;
  std::vector<Value> params{format_timestamp(finished_before), bound(limit)};
  co_return co_await db_.execute(kPurge, std::move(params));
}

}  // namespace user_service::repositories
