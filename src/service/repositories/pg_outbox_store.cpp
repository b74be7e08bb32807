#include "service/repositories/pg_outbox_store.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "kit/db/pg/timestamp.hpp"
#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/pg_cells.hpp"

namespace user_service::repositories {
namespace {

using boost::asio::awaitable;
using kit::db::pg::Params;
using kit::db::pg::Result;
using kit::db::pg::Retry;
using kit::db::pg::Statement;
using kit::outbox::Claimed;
using kit::outbox::Timestamp;

// The rows due for `destination`, oldest first, each only while no earlier row of its ordering
// key is still pending (delivery in order per key), locked with SKIP LOCKED so that concurrent
// claims pick different rows instead of waiting for each other, and leased in the same
// statement. A row another claim leased and committed meanwhile is re-checked against its new
// version under READ COMMITTED (its lease now holds) and left out.
// `seq = ANY (ARRAY(...))` rather than `seq IN (...)`: the pool's prepared statements get
// generic plans, which guess LIMIT $n at a tenth of the rows; measured on a million rows, the
// IN form then hashed the picked rows and scanned the whole table (purge: 295 ms against
// 1.8 ms), the ARRAY form always looks the rows up by primary key.
const Statement kClaim{
    "outbox_claim",
    "UPDATE outbox SET claimed_until = $4, attempts = attempts + 1 WHERE seq = ANY (ARRAY("
    "SELECT o.seq FROM outbox o WHERE o.destination = $1 AND o.state = 'pending' "
    "AND o.next_attempt_at <= $2 AND (o.claimed_until IS NULL OR o.claimed_until <= $2) "
    "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination "
    "AND p.ordering_key = o.ordering_key AND p.state = 'pending' AND p.seq < o.seq) "
    "ORDER BY o.seq LIMIT $3 FOR UPDATE OF o SKIP LOCKED)) "
    "RETURNING seq, id, destination, ordering_key, type, payload, created_at, attempts"};
// The lease is the claim's token: a dispatcher whose lease ran out, and whose row another
// claimed since, matches nothing.
#define LEASED "WHERE seq = $1 AND claimed_until = $2 AND state = 'pending'"
const Statement kDelivered{"outbox_delivered",
                           "UPDATE outbox SET state = 'delivered', finished_at = $3, claimed_until "
                           "= NULL, " OUTBOX_ERASE_EMAIL_BODY " " LEASED};
const Statement kReschedule{
    "outbox_reschedule",
    "UPDATE outbox SET next_attempt_at = $3, last_error = $4, claimed_until = NULL " LEASED};
const Statement kRelease{"outbox_release",
                         "UPDATE outbox SET claimed_until = NULL, attempts = attempts - 1 " LEASED};
const Statement kDead{
    "outbox_dead",
    "UPDATE outbox SET state = 'dead', finished_at = $3, last_error = $4, " OUTBOX_ERASE_EMAIL_BODY
    ", "
    "claimed_until = NULL " LEASED};
#undef LEASED
// A leased row is left to its dispatcher, which marks it itself; once the lease has run out
// the next expiry takes it.
const Statement kExpire{
    "outbox_expire",
    "WITH dead AS (UPDATE outbox SET state = 'dead', finished_at = $2, last_error = "
    "'expired', " OUTBOX_ERASE_EMAIL_BODY
    ", "
    "claimed_until = NULL WHERE state = 'pending' AND created_at < $1 "
    "AND (claimed_until IS NULL OR claimed_until <= $2) RETURNING destination) "
    "SELECT destination, count(*) FROM dead GROUP BY destination ORDER BY destination"};
const Statement kStats{
    "outbox_stats", "SELECT count(*), min(created_at) FROM outbox WHERE state = 'pending'", true};
// SKIP LOCKED: replicas purging at the same time take different rows instead of waiting. ANY
// (ARRAY(...)) for the plan, as in kClaim.
const Statement kPurge{
    "outbox_purge",
    "DELETE FROM outbox WHERE seq = ANY (ARRAY(SELECT seq FROM outbox WHERE finished_at < $1 "
    "AND state IN ('delivered', 'dead') LIMIT $2 FOR UPDATE SKIP LOCKED))"};

using pg_cells::text;
using pg_cells::timestamp;

std::string ts(Timestamp t) {
  return kit::db::pg::format_timestamp(t);
}

std::string bound(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return std::to_string(std::min(limit, kMax));
}

}  // namespace

// Retry::safe although a claim is no read: replayed after a first attempt that did commit, the
// rows of that attempt stay leased to nobody until their lease ends, and are claimed again
// then with one attempt too many counted. That is what a dispatcher crashing after its claim
// causes anyway (docs/events.md "Delivery": delivery is at least once and a lease bounds
// how long a row waits), and it is better than failing the round.
awaitable<std::vector<Claimed>> PgOutboxStore::claim(std::string_view destination,
                                                     std::size_t limit, Timestamp now,
                                                     std::chrono::milliseconds lease) {
  std::vector<Claimed> rows;
  if (limit == 0) co_return rows;
  const Timestamp lease_until = now + lease;
  Params params{std::string(destination), ts(now), bound(limit), ts(lease_until)};
  Result r = co_await pool_.query(kClaim, std::move(params), Retry::safe);
  rows.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    Claimed row;
    row.seq = std::stoll(text(r, i, 0));
    row.id = text(r, i, 1);
    row.destination = text(r, i, 2);
    row.ordering_key = text(r, i, 3);
    row.type = text(r, i, 4);
    row.payload = text(r, i, 5);
    row.created_at = timestamp(r, i, 6);
    row.attempts = std::stoi(text(r, i, 7));
    row.lease_until = lease_until;
    rows.push_back(std::move(row));
  }
  // RETURNING follows no ORDER BY.
  std::sort(rows.begin(), rows.end(),
            [](const Claimed& a, const Claimed& b) { return a.seq < b.seq; });
  co_return rows;
}

// The marks are idempotent: a replay finds the lease released and changes nothing.
awaitable<void> PgOutboxStore::mark_delivered(const Claimed& row, Timestamp now) {
  Params params{std::to_string(row.seq), ts(row.lease_until), ts(now)};
  co_await pool_.query(kDelivered, std::move(params), Retry::safe);
}

awaitable<void> PgOutboxStore::reschedule(const Claimed& row, Timestamp next_attempt,
                                          std::string_view error) {
  Params params{std::to_string(row.seq), ts(row.lease_until), ts(next_attempt),
                outbox_error_text(error)};
  co_await pool_.query(kReschedule, std::move(params), Retry::safe);
}

awaitable<void> PgOutboxStore::release(const Claimed& row) {
  Params params{std::to_string(row.seq), ts(row.lease_until)};
  co_await pool_.query(kRelease, std::move(params), Retry::safe);
}

awaitable<void> PgOutboxStore::mark_dead(const Claimed& row, Timestamp now,
                                         std::string_view error) {
  Params params{std::to_string(row.seq), ts(row.lease_until), ts(now), outbox_error_text(error)};
  co_await pool_.query(kDead, std::move(params), Retry::safe);
}

// Retry::safe: a replay after a first attempt that committed finds those rows dead already and
// counts none of them, an undercount of a metric; without the replay they would be uncounted
// all the same.
awaitable<std::vector<std::pair<std::string, std::int64_t>>> PgOutboxStore::expire(
    Timestamp created_before, Timestamp now) {
  Params params{ts(created_before), ts(now)};
  Result r = co_await pool_.query(kExpire, std::move(params), Retry::safe);
  std::vector<std::pair<std::string, std::int64_t>> counts;
  counts.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) counts.emplace_back(text(r, i, 0), std::stoll(text(r, i, 1)));
  co_return counts;
}

awaitable<kit::outbox::Stats> PgOutboxStore::stats() {
  Result r = co_await pool_.query(kStats, Params{}, Retry::safe);
  kit::outbox::Stats stats;
  stats.pending = std::stoll(text(r, 0, 0));
  if (r.get(0, 1)) stats.oldest = timestamp(r, 0, 1);
  co_return stats;
}

awaitable<std::int64_t> PgOutboxStore::purge(Timestamp finished_before, std::size_t limit) {
  if (limit == 0) co_return 0;
  Params params{ts(finished_before), bound(limit)};
  Result r = co_await pool_.query(kPurge, std::move(params), Retry::safe);
  co_return static_cast<std::int64_t>(r.affected_rows());
}

}  // namespace user_service::repositories
