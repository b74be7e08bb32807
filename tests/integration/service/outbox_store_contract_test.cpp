// The kit::outbox::Store contract (docs/events.md "Delivery", "The outbox table") run against every
// backend: a SQLite file database (WAL, separate readers), a SQLite :memory: database, and
// PostgreSQL (a fresh database per test, a pool whose statements each take a connection of their
// own, so concurrent claims really run at the same time on the server). Each test starts from an
// empty, migrated outbox table; rows are written as the service writes them (write_outbox on
// SQLite, plain SQL on PostgreSQL) and inspected with plain SQL.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "contract_backends.hpp"
#include "kit/db/migrations/migration.hpp"
#include "kit/db/pg/migrate.hpp"
#include "kit/db/pg/pool.hpp"
#include "kit/db/pg/timestamp.hpp"
#include "kit/db/sqlite/database.hpp"
#include "kit/db/sqlite/migrations.hpp"
#include "kit/outbox/store.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/pg_outbox_store.hpp"
#include "service/repositories/sqlite_outbox_store.hpp"
#include "service/repositories/timestamps.hpp"
#include "test_values.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/temp_dir.hpp"

// GCC 12 reports a false -Wmismatched-new-delete in coroutine ramps: Asio's frame operator new
// (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace user_service::repositories::outbox_contract {
namespace {

namespace asio = boost::asio;
using namespace std::chrono;
using namespace std::string_literals;
using kit::outbox::Claimed;
using kit::outbox::Message;
using kit::outbox::Timestamp;

// One row as stored, for the checks the interface cannot make.
struct StoredRow {
  std::int64_t seq = 0;
  std::string state = {};
  int attempts = 0;
  std::optional<std::string> last_error = {};
  std::optional<Timestamp> finished_at = {};
  Timestamp next_attempt_at = {};
  std::optional<Timestamp> claimed_until = {};
};

// Owns a backend (database, pool, store) for one test.
class Handle {
 public:
  virtual ~Handle() = default;
  virtual kit::outbox::Store& store() = 0;
  // Writes the messages as the service does, created (and due) at `now`.
  virtual asio::awaitable<void> write(std::vector<Message> messages, Timestamp now) = 0;
  virtual asio::awaitable<std::optional<StoredRow>> row(std::string id,
                                                        std::string destination) = 0;
  virtual asio::awaitable<std::int64_t> count() = 0;
  virtual asio::awaitable<void> close() = 0;
};

using Backend = test_databases::Backend<Handle>;
using test_databases::backend_name;

// ---- SQLite ----

namespace sqlite = kit::db::sqlite;

std::optional<Timestamp> sqlite_time(const sqlite::Row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return parse_timestamp(row.text(i));
}

class SqliteHandle final : public Handle {
 public:
  SqliteHandle(std::unique_ptr<sqlite_test::TempDir> dir, std::unique_ptr<sqlite::Database> db)
      : dir_(std::move(dir)), db_(std::move(db)), store_(*db_) {}
  kit::outbox::Store& store() override { return store_; }
  asio::awaitable<void> write(std::vector<Message> messages, Timestamp now) override {
    auto body = [messages = std::move(messages), now](sqlite::Connection& c) {
      write_outbox(c, messages, now);
    };
    co_await db_->transaction(std::move(body));
  }
  asio::awaitable<std::optional<StoredRow>> row(std::string id, std::string destination) override {
    std::vector<sqlite::Value> params{std::move(id), std::move(destination)};
    const sqlite::Rows rows = co_await db_->query(
        "SELECT seq, state, attempts, last_error, finished_at, next_attempt_at, claimed_until "
        "FROM outbox WHERE id = ?1 AND destination = ?2",
        std::move(params));
    if (rows.empty()) co_return std::nullopt;
    const sqlite::Row& r = rows[0];
    StoredRow out;
    out.seq = r.int64(0);
    out.state = r.text(1);
    out.attempts = static_cast<int>(r.int64(2));
    if (!r.is_null(3)) out.last_error = r.text(3);
    out.finished_at = sqlite_time(r, 4);
    out.next_attempt_at = sqlite_time(r, 5).value_or(Timestamp{});
    out.claimed_until = sqlite_time(r, 6);
    co_return out;
  }
  asio::awaitable<std::int64_t> count() override {
    const sqlite::Rows rows = co_await db_->query("SELECT count(*) FROM outbox");
    co_return rows[0].int64(0);
  }
  asio::awaitable<void> close() override { co_await db_->close(); }

 private:
  std::unique_ptr<sqlite_test::TempDir> dir_;  // declared first: removed after the database
  std::unique_ptr<sqlite::Database> db_;
  SqliteOutboxStore store_;
};

asio::awaitable<std::unique_ptr<Handle>> open_sqlite(bool in_memory) {
  auto dir = in_memory ? nullptr : std::make_unique<sqlite_test::TempDir>();
  auto db = co_await test_databases::open_sqlite(dir.get(), "outbox.db");
  co_return std::make_unique<SqliteHandle>(std::move(dir), std::move(db));
}

// ---- PostgreSQL ----

namespace pg = kit::db::pg;

const pg::Statement kTestInsert{
    "outbox_test_insert",
    "INSERT INTO outbox (id, destination, ordering_key, type, payload, state, created_at, "
    "next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"};
const pg::Statement kTestRow{
    "outbox_test_row",
    "SELECT seq, state, attempts, last_error, finished_at, next_attempt_at, claimed_until "
    "FROM outbox WHERE id = $1 AND destination = $2",
    true};
const pg::Statement kTestCount{"outbox_test_count", "SELECT count(*) FROM outbox", true};

std::optional<Timestamp> pg_time(const pg::Result& r, int column) {
  const auto cell = r.get(0, column);
  if (!cell) return std::nullopt;
  return pg::parse_timestamp(*cell);
}

class PgHandle final : public Handle {
 public:
  PgHandle(std::unique_ptr<pg_test::TempDatabase> db, std::unique_ptr<pg::Pool> pool)
      : db_(std::move(db)), pool_(std::move(pool)), store_(*pool_) {}
  kit::outbox::Store& store() override { return store_; }
  asio::awaitable<void> write(std::vector<Message> messages, Timestamp now) override {
    const std::string created = pg::format_timestamp(now);
    for (const Message& m : messages) {
      const bool kept = m.destination == kit::outbox::kKept;
      pg::Params params{m.id,   m.destination, m.ordering_key,
                        m.type, m.payload,     kept ? "kept" : "pending",
                        created};
      co_await pool_->query(kTestInsert, std::move(params), pg::Retry::never);
    }
  }
  asio::awaitable<std::optional<StoredRow>> row(std::string id, std::string destination) override {
    pg::Params params{std::move(id), std::move(destination)};
    pg::Result r = co_await pool_->query(kTestRow, std::move(params));
    if (r.rows() == 0) co_return std::nullopt;
    StoredRow out;
    out.seq = std::stoll(std::string(r.get(0, 0).value_or("0")));
    out.state = std::string(r.get(0, 1).value_or(""));
    out.attempts = std::stoi(std::string(r.get(0, 2).value_or("0")));
    if (auto error = r.get(0, 3)) out.last_error = std::string(*error);
    out.finished_at = pg_time(r, 4);
    out.next_attempt_at = pg_time(r, 5).value_or(Timestamp{});
    out.claimed_until = pg_time(r, 6);
    co_return out;
  }
  asio::awaitable<std::int64_t> count() override {
    pg::Result r = co_await pool_->query(kTestCount, pg::Params{});
    co_return std::stoll(std::string(r.get(0, 0).value_or("0")));
  }
  asio::awaitable<void> close() override { co_await pool_->close(); }

 private:
  std::unique_ptr<pg_test::TempDatabase> db_;  // declared first: dropped after the pool
  std::unique_ptr<pg::Pool> pool_;
  PgOutboxStore store_;
};

asio::awaitable<std::unique_ptr<Handle>> open_postgres() {
  auto db = std::make_unique<pg_test::TempDatabase>("usoutbox_");
  auto pool = co_await test_databases::open_pool(*db);
  co_return std::make_unique<PgHandle>(std::move(db), std::move(pool));
}

// ---- the contract ----

using test_values::at;
using test_values::uuid;

Message message(int n, std::string destination, std::string key) {
  return Message{uuid(n), std::move(destination), std::move(key), "user.registered",
                 "{\"n\":" + std::to_string(n) + "}"};
}

// The ids of messages n…, as ids() lists them. A function rather than a braced list: GCC 12
// rejects braced lists in an expression that also awaits.
template <class... N>
std::vector<std::string> uuids(N... n) {
  std::vector<std::string> out;
  (out.push_back(uuid(n)), ...);
  return out;
}

std::vector<std::string> ids(const std::vector<Claimed>& rows) {
  std::vector<std::string> out;
  for (const Claimed& r : rows) out.push_back(r.id);
  return out;
}

using Counts = std::vector<std::pair<std::string, std::int64_t>>;

Counts sorted(Counts counts) {
  std::sort(counts.begin(), counts.end());
  return counts;
}

const std::string kHooks = "webhook:0";
const std::string kMail = "email";
constexpr milliseconds kLease{30'000};

class OutboxStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto opened = asio::co_spawn(io_, GetParam().open(), asio::use_future);
    io_.run();
    handle_ = opened.get();
    ASSERT_NE(handle_, nullptr);
  }
  void TearDown() override {
    if (!handle_) return;
    run([this]() -> asio::awaitable<void> { co_await handle_->close(); });
    handle_.reset();
  }

  kit::outbox::Store& store() { return handle_->store(); }
  Handle& db() { return *handle_; }
  // Runs a coroutine to completion on the test's io_context (rethrowing its exception).
  void run(std::function<asio::awaitable<void>()> body) {
    auto done = asio::co_spawn(io_, std::move(body), asio::use_future);
    io_.restart();
    io_.run();
    done.get();
  }
  // The stored row of message n; fails the test when there is none.
  asio::awaitable<StoredRow> stored(int n, const std::string& destination) {
    auto row = co_await handle_->row(uuid(n), destination);
    EXPECT_TRUE(row.has_value()) << n << " " << destination;
    co_return row.value_or(StoredRow{});
  }

  asio::io_context io_;
  std::unique_ptr<Handle> handle_;
};

// ---- claim ----

TEST_P(OutboxStoreContract, ClaimReturnsTheRowAsWrittenLeasedAndCounted) {
  run([&]() -> asio::awaitable<void> {
    Message m = message(1, kHooks, "user-1");
    m.payload = "{\"type\":\"user.registered\",\"data\":{\"name\":\"Zoë\"}}";
    std::vector<Message> batch{m};
    co_await db().write(batch, at());
    const auto claimed = co_await store().claim(kHooks, 10, at(seconds{1}), kLease);
    EXPECT_EQ(claimed.size(), 1u);
    if (claimed.size() != 1) co_return;
    const Claimed& c = claimed[0];
    EXPECT_GT(c.seq, 0);
    EXPECT_EQ(c.id, m.id);
    EXPECT_EQ(c.destination, kHooks);
    EXPECT_EQ(c.ordering_key, "user-1");
    EXPECT_EQ(c.type, "user.registered");
    EXPECT_EQ(c.payload, m.payload);
    EXPECT_EQ(c.created_at, at());
    EXPECT_EQ(c.attempts, 1);
    EXPECT_EQ(c.lease_until, at(seconds{1}) + kLease);
    const StoredRow row = co_await stored(1, kHooks);
    EXPECT_EQ(row.seq, c.seq);
    EXPECT_EQ(row.state, "pending");
    EXPECT_EQ(row.attempts, 1);
    EXPECT_EQ(row.claimed_until, c.lease_until);
  });
}

TEST_P(OutboxStoreContract, ClaimReturnsDueRowsOldestFirstAndOnlyTheHeadOfEachKey) {
  run([&]() -> asio::awaitable<void> {
    // Written in this order: 1 (a), 2 (b), 3 (a), 4 (c), 5 (b).
    std::vector<Message> batch{message(1, kHooks, "a"), message(2, kHooks, "b"),
                               message(3, kHooks, "a"), message(4, kHooks, "c"),
                               message(5, kHooks, "b")};
    co_await db().write(batch, at());
    const auto claimed = co_await store().claim(kHooks, 10, at(), kLease);
    const std::vector<std::string> heads{uuid(1), uuid(2), uuid(4)};
    EXPECT_EQ(ids(claimed), heads);
    for (std::size_t i = 1; i < claimed.size(); ++i) EXPECT_LT(claimed[i - 1].seq, claimed[i].seq);
    // The rows behind a leased head wait for it.
    EXPECT_TRUE((co_await store().claim(kHooks, 10, at(seconds{1}), kLease)).empty());
  });
}

TEST_P(OutboxStoreContract, ClaimTakesAtMostLimitRowsOldestFirst) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch;
    for (int n = 1; n <= 5; ++n) batch.push_back(message(n, kHooks, "user-" + std::to_string(n)));
    co_await db().write(batch, at());
    const std::vector<std::string> first{uuid(1), uuid(2)};
    const std::vector<std::string> second{uuid(3), uuid(4)};
    const std::vector<std::string> third{uuid(5)};
    EXPECT_EQ(ids(co_await store().claim(kHooks, 2, at(), kLease)), first);
    EXPECT_EQ(ids(co_await store().claim(kHooks, 2, at(), kLease)), second);
    EXPECT_EQ(ids(co_await store().claim(kHooks, 2, at(), kLease)), third);
    EXPECT_TRUE((co_await store().claim(kHooks, 2, at(), kLease)).empty());
    EXPECT_TRUE((co_await store().claim(kHooks, 0, at(hours{1}), kLease)).empty());
  });
}

TEST_P(OutboxStoreContract, RowsAreNotDueBeforeTheyAreWritten) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a")};
    co_await db().write(batch, at());
    EXPECT_TRUE((co_await store().claim(kHooks, 10, at(-microseconds{1}), kLease)).empty());
    EXPECT_EQ((co_await store().claim(kHooks, 10, at(), kLease)).size(), 1u);
  });
}

TEST_P(OutboxStoreContract, LeasedRowIsClaimedAgainOnlyOnceItsLeaseEnds) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a"), message(2, kHooks, "a")};
    co_await db().write(batch, at());
    const auto first = co_await store().claim(kHooks, 10, at(), kLease);
    EXPECT_EQ(ids(first), uuids(1));
    // Neither the leased row nor the one behind it, until the lease has run out.
    EXPECT_TRUE((co_await store().claim(kHooks, 10, at(kLease - microseconds{1}), kLease)).empty());
    const auto again = co_await store().claim(kHooks, 10, at(kLease), kLease);
    EXPECT_EQ(ids(again), uuids(1));
    if (first.size() != 1 || again.size() != 1) co_return;
    EXPECT_EQ(again[0].seq, first[0].seq);
    EXPECT_EQ(again[0].attempts, 2);
    EXPECT_EQ(again[0].lease_until, at(kLease + kLease));
    const StoredRow row = co_await stored(1, kHooks);
    EXPECT_EQ(row.attempts, 2);
    EXPECT_EQ(row.claimed_until, again[0].lease_until);
  });
}

// ---- mark_delivered, reschedule, mark_dead ----

TEST_P(OutboxStoreContract, MarkDeliveredFinishesTheRowAndReleasesItsKey) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a"), message(2, kHooks, "a")};
    co_await db().write(batch, at());
    const auto claimed = co_await store().claim(kHooks, 10, at(), kLease);
    EXPECT_EQ(claimed.size(), 1u);
    if (claimed.size() != 1) co_return;
    co_await store().mark_delivered(claimed[0], at(seconds{1}));
    const StoredRow row = co_await stored(1, kHooks);
    EXPECT_EQ(row.state, "delivered");
    EXPECT_EQ(row.finished_at, at(seconds{1}));
    EXPECT_FALSE(row.claimed_until.has_value());
    EXPECT_FALSE(row.last_error.has_value());
    // The next row of the key is due now; the delivered one never again.
    const auto next = co_await store().claim(kHooks, 10, at(seconds{1}), kLease);
    EXPECT_EQ(ids(next), uuids(2));
    for (const Claimed& c : next) co_await store().mark_delivered(c, at(seconds{2}));
    EXPECT_TRUE((co_await store().claim(kHooks, 10, at(hours{1}), kLease)).empty());
    // Marking again (a replay) changes nothing.
    co_await store().mark_delivered(claimed[0], at(seconds{5}));
    EXPECT_EQ((co_await stored(1, kHooks)).finished_at, at(seconds{1}));
  });
}

TEST_P(OutboxStoreContract, ReleaseGivesTheRowBackUnattemptedWithItsError) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a")};
    co_await db().write(batch, at());
    const auto first = co_await store().claim(kHooks, 10, at(), kLease);
    EXPECT_EQ(first.size(), 1u);
    if (first.size() != 1) co_return;
    co_await store().reschedule(first[0], at(seconds{1}), "HTTP 503");
    const auto second = co_await store().claim(kHooks, 10, at(seconds{1}), milliseconds{600'000});
    EXPECT_EQ(second.size(), 1u);
    if (second.size() != 1) co_return;
    EXPECT_EQ(second[0].attempts, 2);
    co_await store().release(second[0]);
    const StoredRow row = co_await stored(1, kHooks);
    EXPECT_EQ(row.state, "pending");
    EXPECT_FALSE(row.claimed_until.has_value());
    EXPECT_EQ(row.attempts, 1);  // the release was no attempt
    EXPECT_EQ(row.last_error, "HTTP 503");
    // Due at once, although the long lease would still hold.
    const auto third = co_await store().claim(kHooks, 10, at(seconds{2}), kLease);
    EXPECT_EQ(ids(third), uuids(1));
    // A release with a stale lease changes nothing.
    co_await store().release(second[0]);
    EXPECT_EQ((co_await stored(1, kHooks)).attempts, 2);
  });
}

TEST_P(OutboxStoreContract, RescheduleMakesTheRowDueLaterReleasesItAndKeepsTheError) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a"), message(2, kHooks, "a")};
    co_await db().write(batch, at());
    const milliseconds long_lease{600'000};
    const auto claimed = co_await store().claim(kHooks, 10, at(), long_lease);
    EXPECT_EQ(claimed.size(), 1u);
    if (claimed.size() != 1) co_return;
    co_await store().reschedule(claimed[0], at(minutes{1}), "HTTP 503 from the endpoint");
    const StoredRow row = co_await stored(1, kHooks);
    EXPECT_EQ(row.state, "pending");
    EXPECT_EQ(row.next_attempt_at, at(minutes{1}));
    EXPECT_FALSE(row.claimed_until.has_value());
    EXPECT_EQ(row.last_error, "HTTP 503 from the endpoint");
    EXPECT_EQ(row.attempts, 1);
    // Not due yet, and the row behind it still waits for it.
    EXPECT_TRUE(
        (co_await store().claim(kHooks, 10, at(minutes{1} - microseconds{1}), kLease)).empty());
    // Due at next_attempt although the first lease would still hold: it was released.
    const auto again = co_await store().claim(kHooks, 10, at(minutes{1}), kLease);
    EXPECT_EQ(ids(again), uuids(1));
    if (again.size() != 1) co_return;
    EXPECT_EQ(again[0].attempts, 2);
    co_await store().mark_delivered(again[0], at(minutes{1} + seconds{1}));
    EXPECT_EQ(ids(co_await store().claim(kHooks, 10, at(minutes{1} + seconds{1}), kLease)),
              uuids(2));
  });
}

TEST_P(OutboxStoreContract, MarkDeadFinishesTheRowWithItsErrorAndReleasesItsKey) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a"), message(2, kHooks, "a")};
    co_await db().write(batch, at());
    const auto claimed = co_await store().claim(kHooks, 10, at(), kLease);
    EXPECT_EQ(claimed.size(), 1u);
    if (claimed.size() != 1) co_return;
    co_await store().mark_dead(claimed[0], at(seconds{2}), "HTTP 410 Gone");
    const StoredRow row = co_await stored(1, kHooks);
    EXPECT_EQ(row.state, "dead");
    EXPECT_EQ(row.finished_at, at(seconds{2}));
    EXPECT_EQ(row.last_error, "HTTP 410 Gone");
    EXPECT_FALSE(row.claimed_until.has_value());
    EXPECT_EQ(ids(co_await store().claim(kHooks, 10, at(seconds{2}), kLease)), uuids(2));
  });
}

TEST_P(OutboxStoreContract, ErrorIsCutAtACharacterBoundaryAndMadeValidText) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a"), message(2, kHooks, "b")};
    co_await db().write(batch, at());
    const auto claimed = co_await store().claim(kHooks, 10, at(), kLease);
    EXPECT_EQ(claimed.size(), 2u);
    if (claimed.size() != 2) co_return;
    // 1 + 300 × 2 bytes: cut to 499, the 250th "é" would end at byte 501.
    std::string long_error = "x";
    std::string expected = "x";
    for (int i = 0; i < 300; ++i) long_error += "é";
    for (int i = 0; i < 249; ++i) expected += "é";
    co_await store().reschedule(claimed[0], at(minutes{1}), long_error);
    EXPECT_EQ((co_await stored(1, kHooks)).last_error, expected);
    // Bytes that are not UTF-8, and NUL, are replaced: recording a failure must not fail.
    const std::string raw = "bad \xff\xfe byte\0end \xe2\x82 cut"s;
    co_await store().mark_dead(claimed[1], at(), raw);
    EXPECT_EQ((co_await stored(2, kHooks)).last_error, "bad ?? byte?end ?? cut");
  });
}

TEST_P(OutboxStoreContract, MarksWithAStaleLeaseChangeNothing) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, kHooks, "a")};
    co_await db().write(batch, at());
    const auto old_claim = co_await store().claim(kHooks, 10, at(), kLease);
    const auto new_claim = co_await store().claim(kHooks, 10, at(kLease), kLease);
    EXPECT_EQ(old_claim.size(), 1u);
    EXPECT_EQ(new_claim.size(), 1u);
    if (old_claim.size() != 1 || new_claim.size() != 1) co_return;
    const Claimed& stale = old_claim[0];
    const Claimed& current = new_claim[0];
    co_await store().mark_delivered(stale, at(kLease + seconds{1}));
    co_await store().reschedule(stale, at(hours{1}), "late");
    co_await store().mark_dead(stale, at(kLease + seconds{1}), "late");
    StoredRow row = co_await stored(1, kHooks);
    EXPECT_EQ(row.state, "pending");
    EXPECT_EQ(row.attempts, 2);
    EXPECT_EQ(row.claimed_until, current.lease_until);
    EXPECT_EQ(row.next_attempt_at, at());
    EXPECT_FALSE(row.last_error.has_value());
    EXPECT_FALSE(row.finished_at.has_value());
    EXPECT_TRUE((co_await store().claim(kHooks, 10, at(kLease + seconds{1}), kLease)).empty());
    // The current lease holder's mark counts.
    co_await store().mark_delivered(current, at(kLease + seconds{2}));
    row = co_await stored(1, kHooks);
    EXPECT_EQ(row.state, "delivered");
    EXPECT_EQ(row.finished_at, at(kLease + seconds{2}));
  });
}

// ---- kept rows, destinations ----

TEST_P(OutboxStoreContract, KeptRowsAreNeverClaimed) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch{message(1, std::string(kit::outbox::kKept), "a"),
                               message(2, std::string(kit::outbox::kKept), "b"),
                               message(3, kHooks, "a")};
    co_await db().write(batch, at());
    EXPECT_EQ((co_await stored(1, "")).state, "kept");
    EXPECT_TRUE((co_await store().claim(kit::outbox::kKept, 10, at(hours{100}), kLease)).empty());
    // A kept row does not hold back a delivered destination's row of the same key either.
    EXPECT_EQ(ids(co_await store().claim(kHooks, 10, at(), kLease)), uuids(3));
    const kit::outbox::Stats stats = co_await store().stats();
    EXPECT_EQ(stats.pending, 1);
  });
}

TEST_P(OutboxStoreContract, ClaimLeavesOtherDestinationsUntouched) {
  run([&]() -> asio::awaitable<void> {
    // One event for two destinations: same id and key, one row each.
    std::vector<Message> batch{message(1, kHooks, "user-1"), message(1, kMail, "user-1"),
                               message(2, kHooks, "user-2")};
    co_await db().write(batch, at());
    EXPECT_EQ(ids(co_await store().claim(kHooks, 10, at(), kLease)), uuids(1, 2));
    EXPECT_EQ((co_await stored(1, kMail)).attempts, 0);
    EXPECT_FALSE((co_await stored(1, kMail)).claimed_until.has_value());
    // The key's row leased for the webhook does not hold back the email.
    const auto mail = co_await store().claim(kMail, 10, at(), kLease);
    EXPECT_EQ(ids(mail), uuids(1));
    if (!mail.empty()) {
      EXPECT_EQ(mail[0].destination, kMail);
    }
    EXPECT_TRUE((co_await store().claim("webhook:1", 10, at(hours{1}), kLease)).empty());
  });
}

// ---- expire, stats, purge ----

TEST_P(OutboxStoreContract, ExpireKillsOnlyOldUnleasedPendingRowsAndCountsPerDestination) {
  run([&]() -> asio::awaitable<void> {
    const milliseconds lease{600'000};
    std::vector<Message> first{message(1, kHooks, "delivered"), message(2, kHooks, "leased")};
    co_await db().write(first, at());
    const auto claimed = co_await store().claim(kHooks, 10, at(), lease);
    EXPECT_EQ(claimed.size(), 2u);
    if (claimed.size() != 2) co_return;
    co_await store().mark_delivered(claimed[0], at());
    std::vector<Message> old_rows{message(3, kHooks, "a"), message(4, kHooks, "a"),
                                  message(5, kMail, "a"),
                                  message(6, std::string(kit::outbox::kKept), "a")};
    co_await db().write(old_rows, at());
    std::vector<Message> recent{message(7, kHooks, "b")};
    co_await db().write(recent, at(hours{2}));

    const Counts expected{{kMail, 1}, {kHooks, 2}};
    EXPECT_EQ(sorted(co_await store().expire(at(hours{1}), at(minutes{1}))), sorted(expected));
    const std::vector<int> expired_rows{3, 4};
    for (int n : expired_rows) {
      const StoredRow row = co_await stored(n, kHooks);
      EXPECT_EQ(row.state, "dead") << n;
      EXPECT_EQ(row.finished_at, at(minutes{1})) << n;
      EXPECT_EQ(row.last_error, "expired") << n;
    }
    EXPECT_EQ((co_await stored(5, kMail)).state, "dead");
    EXPECT_EQ((co_await stored(1, kHooks)).state, "delivered");
    EXPECT_EQ((co_await stored(2, kHooks)).state, "pending");  // leased
    EXPECT_EQ((co_await stored(6, "")).state, "kept");
    EXPECT_EQ((co_await stored(7, kHooks)).state, "pending");  // recent

    // Nothing more until the lease has run out; then that row too, and its holder's late mark
    // changes nothing.
    EXPECT_TRUE((co_await store().expire(at(hours{1}), at(minutes{2}))).empty());
    const Counts leased{{kHooks, 1}};
    EXPECT_EQ(co_await store().expire(at(hours{1}), at(lease)), leased);
    co_await store().mark_delivered(claimed[1], at(lease));
    EXPECT_EQ((co_await stored(2, kHooks)).state, "dead");
    const kit::outbox::Stats stats = co_await store().stats();
    EXPECT_EQ(stats.pending, 1);
    EXPECT_EQ(stats.oldest, at(hours{2}));
  });
}

TEST_P(OutboxStoreContract, StatsCountPendingRowsAndTheOldest) {
  run([&]() -> asio::awaitable<void> {
    kit::outbox::Stats stats = co_await store().stats();
    EXPECT_EQ(stats.pending, 0);
    EXPECT_FALSE(stats.oldest.has_value());
    std::vector<Message> early{message(1, kHooks, "a"), message(2, kMail, "b"),
                               message(3, std::string(kit::outbox::kKept), "c")};
    co_await db().write(early, at());
    std::vector<Message> later{message(4, kHooks, "d")};
    co_await db().write(later, at(seconds{10}));
    stats = co_await store().stats();
    EXPECT_EQ(stats.pending, 3);
    EXPECT_EQ(stats.oldest, at());
    // Leased rows are still pending; finished ones are not.
    const std::vector<std::string> destinations{kHooks, kMail};
    for (const std::string& destination : destinations) {
      const auto claimed = co_await store().claim(destination, 1, at(seconds{10}), kLease);
      for (const Claimed& c : claimed) co_await store().mark_delivered(c, at(seconds{11}));
    }
    stats = co_await store().stats();
    EXPECT_EQ(stats.pending, 1);
    EXPECT_EQ(stats.oldest, at(seconds{10}));
  });
}

TEST_P(OutboxStoreContract, PurgeDeletesUpToLimitFinishedRowsFinishedBeforeTheBound) {
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch;
    for (int n = 1; n <= 6; ++n) batch.push_back(message(n, kHooks, "user-" + std::to_string(n)));
    co_await db().write(batch, at());
    const auto claimed = co_await store().claim(kHooks, 10, at(), kLease);
    EXPECT_EQ(claimed.size(), 6u);
    if (claimed.size() != 6) co_return;
    for (int i = 0; i < 4; ++i) co_await store().mark_delivered(claimed[i], at(seconds{1}));
    co_await store().mark_dead(claimed[4], at(seconds{1}), "HTTP 410");
    co_await store().mark_delivered(claimed[5], at(hours{2}));
    std::vector<Message> open{message(7, kHooks, "user-7"),
                              message(8, std::string(kit::outbox::kKept), "user-8")};
    co_await db().write(open, at());
    EXPECT_EQ(co_await db().count(), 8);

    EXPECT_EQ(co_await store().purge(at(hours{1}), 0), 0);
    EXPECT_EQ(co_await store().purge(at(hours{1}), 3), 3);
    EXPECT_EQ(co_await store().purge(at(hours{1}), 3), 2);
    EXPECT_EQ(co_await store().purge(at(hours{1}), 3), 0);
    EXPECT_EQ(co_await db().count(), 3);
    EXPECT_TRUE((co_await db().row(uuid(6), kHooks)).has_value());
    EXPECT_EQ(co_await store().purge(at(hours{3}), 10), 1);
    // Pending and kept rows are never purged.
    EXPECT_EQ(co_await db().count(), 2);
    EXPECT_EQ((co_await stored(7, kHooks)).state, "pending");
    EXPECT_EQ((co_await stored(8, "")).state, "kept");
  });
}

// ---- concurrency ----

// Runs `workers` copies of `work` at once on the current executor and waits for all of them.
asio::awaitable<void> run_concurrently(int workers, std::function<asio::awaitable<void>()> work) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, steady_clock::time_point::max());
  int running = workers;
  std::exception_ptr failure;
  for (int i = 0; i < workers; ++i) {
    auto finished = [&](std::exception_ptr e) {
      if (e && !failure) failure = e;
      if (--running == 0) all_done.cancel();
    };
    asio::co_spawn(executor, work, finished);
  }
  boost::system::error_code ec;
  auto wait = asio::redirect_error(asio::use_awaitable, ec);
  while (running > 0) co_await all_done.async_wait(wait);
  if (failure) std::rethrow_exception(failure);
}

TEST_P(OutboxStoreContract, ConcurrentClaimsNeverHandOutARowTwice) {
  constexpr int kRows = 200;
  constexpr int kWorkers = 4;
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch;
    for (int n = 1; n <= kRows; ++n) {
      batch.push_back(message(n, kHooks, "user-" + std::to_string(n)));
    }
    co_await db().write(batch, at());
    std::vector<std::string> claimed;
    std::function<asio::awaitable<void>()> work = [&]() -> asio::awaitable<void> {
      for (;;) {
        const auto rows = co_await store().claim(kHooks, 7, at(seconds{1}), kLease);
        if (rows.empty()) co_return;
        EXPECT_LE(rows.size(), 7u);
        for (const Claimed& row : rows) claimed.push_back(row.id);
      }
    };
    co_await run_concurrently(kWorkers, work);
    EXPECT_TRUE((co_await store().claim(kHooks, 7, at(seconds{1}), kLease)).empty());
    EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kRows));
    const std::set<std::string> distinct(claimed.begin(), claimed.end());
    EXPECT_EQ(distinct.size(), claimed.size()) << "a row was handed out twice";
    std::set<std::string> all;
    for (const Message& m : batch) all.insert(m.id);
    EXPECT_EQ(distinct, all);
  });
}

TEST_P(OutboxStoreContract, ConcurrentDispatchersDeliverEachKeyInOrder) {
  constexpr int kKeys = 40;
  constexpr int kPerKey = 5;
  constexpr int kWorkers = 4;
  run([&]() -> asio::awaitable<void> {
    std::vector<Message> batch;
    for (int n = 1; n <= kKeys * kPerKey; ++n) {
      batch.push_back(message(n, kHooks, "user-" + std::to_string(n % kKeys)));
    }
    co_await db().write(batch, at());
    std::set<std::int64_t> seen;
    std::set<std::int64_t> marking;  // a mark started: it commits before any later claim sees it
    std::map<std::string, std::vector<std::int64_t>> claimed_per_key;
    std::size_t delivered = 0;
    std::function<asio::awaitable<void>()> work = [&]() -> asio::awaitable<void> {
      auto executor = co_await asio::this_coro::executor;
      for (int idle = 0; delivered < batch.size() && idle < 5000;) {
        const auto rows = co_await store().claim(kHooks, 7, at(seconds{1}), kLease);
        if (rows.empty()) {
          // Every head may be held by another dispatcher right now.
          ++idle;
          asio::steady_timer pause(executor, milliseconds{1});
          co_await pause.async_wait(asio::use_awaitable);
          continue;
        }
        for (const Claimed& row : rows) {
          EXPECT_TRUE(seen.insert(row.seq).second) << "seq " << row.seq << " handed out twice";
          auto& previous = claimed_per_key[row.ordering_key];
          if (!previous.empty()) {
            EXPECT_LT(previous.back(), row.seq) << row.ordering_key;
            EXPECT_TRUE(marking.count(previous.back()))
                << row.ordering_key << ": seq " << row.seq << " claimed before " << previous.back()
                << " was delivered";
          }
          previous.push_back(row.seq);
        }
        for (const Claimed& row : rows) {
          marking.insert(row.seq);
          co_await store().mark_delivered(row, at(seconds{2}));
          ++delivered;
        }
      }
    };
    co_await run_concurrently(kWorkers, work);
    EXPECT_EQ(delivered, batch.size());
    EXPECT_EQ(seen.size(), batch.size());
    for (const auto& [key, seqs] : claimed_per_key) {
      EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kPerKey)) << key;
    }
    EXPECT_EQ((co_await store().stats()).pending, 0);
  });
}

INSTANTIATE_TEST_SUITE_P(Sqlite, OutboxStoreContract,
                         ::testing::Values(Backend{"file", [] { return open_sqlite(false); }},
                                           Backend{"memory", [] { return open_sqlite(true); }}),
                         backend_name<Handle>);
INSTANTIATE_TEST_SUITE_P(Postgres, OutboxStoreContract,
                         ::testing::Values(Backend{"postgres", [] { return open_postgres(); }}),
                         backend_name<Handle>);

}  // namespace
}  // namespace user_service::repositories::outbox_contract

#pragma GCC diagnostic pop
