// The AccountTokenRepository contract (service/repositories/account_token_repository.hpp,
// docs/account-emails.md) run against every backend: a SQLite file database (WAL, separate
// readers), a SQLite :memory: database, and PostgreSQL (a fresh database per test, a pool whose
// statements each take a connection of their own, so concurrent calls really run at the same
// time on the server). Each test starts from empty, migrated tables; users and sessions are
// made through their own repositories, and what the interface cannot show (the outbox rows,
// the stored tokens, why a session ended) is read with plain SQL.
#include <chrono>
#include <cstdint>
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
#include "kit/db/sqlite/database.hpp"
#include "kit/db/sqlite/migrations.hpp"
#include "kit/outbox/message.hpp"
#include "service/repositories/account_token_repository.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/pg_account_token_repository.hpp"
#include "service/repositories/pg_session_repository.hpp"
#include "service/repositories/pg_user_repository.hpp"
#include "service/repositories/session_repository.hpp"
#include "service/repositories/sqlite_account_token_repository.hpp"
#include "service/repositories/sqlite_session_repository.hpp"
#include "service/repositories/sqlite_user_repository.hpp"
#include "service/repositories/user_repository.hpp"
#include "test_values.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/temp_dir.hpp"

// GCC 12 reports a false -Wmismatched-new-delete in coroutine ramps: Asio's frame operator new
// (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace user_service::repositories::account_token_contract {
namespace {

namespace asio = boost::asio;
using namespace std::chrono;
using domain::Role;
using domain::Timestamp;
using domain::User;
using kit::outbox::Message;

// The destinations the session.revoked events of tokens() are written for (docs/events.md).
const std::vector<std::string> kDestinations{"hooks-a", "hooks-b"};

// One outbox row as stored.
struct OutboxRow {
  std::string id = {};
  std::string destination = {};
  std::string ordering_key = {};
  std::string type = {};
  std::string payload = {};
  std::string state = {};
};

// Owns a backend (database or pool, and the repositories on it) for one test.
class Handle {
 public:
  virtual ~Handle() = default;
  virtual UserRepository& users() = 0;
  virtual SessionRepository& sessions() = 0;
  // Revocations write session.revoked for kDestinations.
  virtual AccountTokenRepository& tokens() = 0;
  // The same table, no destination configured: session.revoked rows are kept.
  virtual AccountTokenRepository& tokens_kept() = 0;
  // Every outbox row, in write order (seq).
  virtual asio::awaitable<std::vector<OutboxRow>> outbox() = 0;
  virtual asio::awaitable<std::int64_t> token_count() = 0;
  // Whether the stored token is spent (used_at set); nullopt when there is no such row.
  virtual asio::awaitable<std::optional<bool>> token_spent(std::string hash) = 0;
  // The session's revoke_reason (nullopt: not revoked, or no such session).
  virtual asio::awaitable<std::optional<std::string>> revoke_reason(std::string session_id) = 0;
  virtual asio::awaitable<void> close() = 0;
};

using Backend = test_databases::Backend<Handle>;
using test_databases::backend_name;

// ---- SQLite ----

namespace sqlite = kit::db::sqlite;

class SqliteHandle final : public Handle {
 public:
  SqliteHandle(std::unique_ptr<sqlite_test::TempDir> dir, std::unique_ptr<sqlite::Database> db)
      : dir_(std::move(dir)),
        db_(std::move(db)),
        users_(*db_),
        sessions_(*db_),
        tokens_(*db_, kDestinations),
        tokens_kept_(*db_) {}
  UserRepository& users() override { return users_; }
  SessionRepository& sessions() override { return sessions_; }
  AccountTokenRepository& tokens() override { return tokens_; }
  AccountTokenRepository& tokens_kept() override { return tokens_kept_; }
  asio::awaitable<std::vector<OutboxRow>> outbox() override {
    const sqlite::Rows rows = co_await db_->query(
        "SELECT id, destination, ordering_key, type, payload, state FROM outbox ORDER BY seq");
    std::vector<OutboxRow> out;
    for (const sqlite::Row& r : rows) {
      out.push_back(OutboxRow{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5)});
    }
    co_return out;
  }
  asio::awaitable<std::int64_t> token_count() override {
    const sqlite::Rows rows = co_await db_->query("SELECT count(*) FROM account_tokens");
    co_return rows[0].int64(0);
  }
  asio::awaitable<std::optional<bool>> token_spent(std::string hash) override {
    std::vector<sqlite::Value> params{std::move(hash)};
    const sqlite::Rows rows = co_await db_->query(
        "SELECT used_at IS NOT NULL FROM account_tokens WHERE token_hash = ?1", std::move(params));
    if (rows.empty()) co_return std::nullopt;
    co_return rows[0].int64(0) != 0;
  }
  asio::awaitable<std::optional<std::string>> revoke_reason(std::string session_id) override {
    std::vector<sqlite::Value> params{std::move(session_id)};
    const sqlite::Rows rows =
        co_await db_->query("SELECT revoke_reason FROM sessions WHERE id = ?1", std::move(params));
    if (rows.empty() || rows[0].is_null(0)) co_return std::nullopt;
    co_return rows[0].text(0);
  }
  asio::awaitable<void> close() override { co_await db_->close(); }

 private:
  std::unique_ptr<sqlite_test::TempDir> dir_;  // declared first: removed after the database
  std::unique_ptr<sqlite::Database> db_;
  SqliteUserRepository users_;
  SqliteSessionRepository sessions_;
  SqliteAccountTokenRepository tokens_;
  SqliteAccountTokenRepository tokens_kept_;
};

asio::awaitable<std::unique_ptr<Handle>> open_sqlite(bool in_memory) {
  auto dir = in_memory ? nullptr : std::make_unique<sqlite_test::TempDir>();
  auto db = co_await test_databases::open_sqlite(dir.get(), "tokens.db");
  co_return std::make_unique<SqliteHandle>(std::move(dir), std::move(db));
}

// ---- PostgreSQL ----

namespace pg = kit::db::pg;

const pg::Statement kOutboxRows{
    "account_token_test_outbox",
    "SELECT id::text, destination, ordering_key, type, payload, state FROM outbox ORDER BY seq",
    true};
const pg::Statement kTokenCount{"account_token_test_count", "SELECT count(*) FROM account_tokens",
                                true};
const pg::Statement kTokenSpent{
    "account_token_test_spent",
    "SELECT used_at IS NOT NULL FROM account_tokens WHERE token_hash = $1", true};
const pg::Statement kRevokeReason{"account_token_test_revoke_reason",
                                  "SELECT revoke_reason FROM sessions WHERE id = $1::uuid", true};

std::string cell(const pg::Result& r, int row, int column) {
  return std::string(r.get(row, column).value_or(""));
}

class PgHandle final : public Handle {
 public:
  PgHandle(std::unique_ptr<pg_test::TempDatabase> db, std::unique_ptr<pg::Pool> pool)
      : db_(std::move(db)),
        pool_(std::move(pool)),
        users_(*pool_),
        sessions_(*pool_),
        tokens_(*pool_, kDestinations),
        tokens_kept_(*pool_) {}
  UserRepository& users() override { return users_; }
  SessionRepository& sessions() override { return sessions_; }
  AccountTokenRepository& tokens() override { return tokens_; }
  AccountTokenRepository& tokens_kept() override { return tokens_kept_; }
  asio::awaitable<std::vector<OutboxRow>> outbox() override {
    const pg::Result r = co_await pool_->query(kOutboxRows, pg::Params{});
    std::vector<OutboxRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(OutboxRow{cell(r, i, 0), cell(r, i, 1), cell(r, i, 2), cell(r, i, 3),
                              cell(r, i, 4), cell(r, i, 5)});
    }
    co_return out;
  }
  asio::awaitable<std::int64_t> token_count() override {
    const pg::Result r = co_await pool_->query(kTokenCount, pg::Params{});
    co_return std::stoll(cell(r, 0, 0));
  }
  asio::awaitable<std::optional<bool>> token_spent(std::string hash) override {
    pg::Params params{std::move(hash)};
    const pg::Result r = co_await pool_->query(kTokenSpent, std::move(params));
    if (r.rows() == 0) co_return std::nullopt;
    co_return cell(r, 0, 0) == "t";
  }
  asio::awaitable<std::optional<std::string>> revoke_reason(std::string session_id) override {
    pg::Params params{std::move(session_id)};
    const pg::Result r = co_await pool_->query(kRevokeReason, std::move(params));
    if (r.rows() == 0 || !r.get(0, 0)) co_return std::nullopt;
    co_return cell(r, 0, 0);
  }
  asio::awaitable<void> close() override { co_await pool_->close(); }

 private:
  std::unique_ptr<pg_test::TempDatabase> db_;  // declared first: dropped after the pool
  std::unique_ptr<pg::Pool> pool_;
  PgUserRepository users_;
  PgSessionRepository sessions_;
  PgAccountTokenRepository tokens_;
  PgAccountTokenRepository tokens_kept_;
};

asio::awaitable<std::unique_ptr<Handle>> open_postgres() {
  // Fails (never skips) when USER_SERVICE_TEST_PG_URL is not set.
  auto db = std::make_unique<pg_test::TempDatabase>("ustokens_");
  auto pool = co_await test_databases::open_pool(*db);
  co_return std::make_unique<PgHandle>(std::move(db), std::move(pool));
}

// ---- values ----

using test_values::at;
using test_values::uuid;

std::string email(int n) {
  return "u" + std::to_string(n) + "@example.io";
}

// User n (created an hour before at()), its address unverified unless said otherwise.
NewUser new_user(int n, bool verified = false) {
  NewUser u;
  u.id = uuid(n);
  u.email = email(n);
  u.name = "User " + std::to_string(n);
  u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b2xk" + std::to_string(n);
  u.role = Role::user;
  u.created_at = at(-hours{1});
  u.email_verified = verified;
  return u;
}

// A token hash: 64 lowercase hex digits, distinct per n.
std::string token_hash(int n) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", static_cast<unsigned>(n) * 2654435761u);
  return std::string(buf, 64);
}

// Token n of user `user_n`, sent to the user's address at at(), expiring after `ttl`.
NewAccountToken new_token(int n, TokenPurpose purpose, int user_n,
                          microseconds ttl = duration_cast<microseconds>(hours{24})) {
  NewAccountToken t;
  t.hash = token_hash(n);
  t.purpose = purpose;
  t.user_id = uuid(user_n);
  t.email = email(user_n);
  t.created_at = at();
  t.expires_at = at() + ttl;
  return t;
}

// The email a token is sent with, or an event, for user `user_n`: id uuid(n).
Message message(int n, std::string destination, int user_n, std::string type) {
  return Message{uuid(n), std::move(destination), uuid(user_n), std::move(type),
                 "{\"n\":" + std::to_string(n) + "}"};
}

// Session 100+n of user `user_n`, created at at(), live for a day.
NewSession new_session(int n, int user_n) {
  NewSession s;
  s.id = uuid(100 + n);
  s.user_id = uuid(user_n);
  s.created_at = at();
  s.expires_at = at() + hours{24};
  s.max_expires_at = at() + hours{72};
  s.user_agent = "agent " + std::to_string(n);
  s.client_ip = "192.0.2." + std::to_string(n);
  s.refresh_hash = token_hash(100000 + n);
  return s;
}

EmailVerification verification(int token_n, int user_n, Timestamp when,
                               std::vector<Message> outbox = {}) {
  EmailVerification v;
  v.token_hash = token_hash(token_n);
  v.user_id = uuid(user_n);
  v.email = email(user_n);
  v.at = when;
  v.outbox = std::move(outbox);
  return v;
}

PasswordReset reset(int token_n, int user_n, std::string password_hash, Timestamp when,
                    std::vector<Message> outbox = {}) {
  PasswordReset r;
  r.token_hash = token_hash(token_n);
  r.user_id = uuid(user_n);
  r.email = email(user_n);
  r.password_hash = std::move(password_hash);
  r.at = when;
  r.outbox = std::move(outbox);
  return r;
}

void expect_same_user(const User& actual, const User& expected, const std::string& what) {
  EXPECT_EQ(actual.id, expected.id) << what;
  EXPECT_EQ(actual.email, expected.email) << what;
  EXPECT_EQ(actual.name, expected.name) << what;
  EXPECT_EQ(actual.password_hash, expected.password_hash) << what;
  EXPECT_EQ(actual.role, expected.role) << what;
  EXPECT_EQ(actual.email_verified, expected.email_verified) << what;
  EXPECT_EQ(actual.created_at, expected.created_at) << what;
  EXPECT_EQ(actual.updated_at, expected.updated_at) << what;
}

std::vector<std::string> ids(const std::vector<OutboxRow>& rows) {
  std::vector<std::string> out;
  for (const OutboxRow& r : rows) out.push_back(r.id);
  return out;
}

// The rows after the first `skip`.
std::vector<OutboxRow> after(const std::vector<OutboxRow>& rows, std::size_t skip) {
  if (skip >= rows.size()) return {};
  return std::vector<OutboxRow>(rows.begin() + static_cast<std::ptrdiff_t>(skip), rows.end());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Checks that `rows` are the session.revoked events (reason password_reset) of exactly the
// sessions `sessions` of user `user_n`: one event (one id) per session, one row per destination
// of `destinations` (kept when there are none).
void expect_revoked_events(const std::vector<OutboxRow>& rows,
                           const std::vector<std::string>& sessions, int user_n,
                           const std::vector<std::string>& destinations) {
  const std::set<std::string> wanted_destinations =
      destinations.empty() ? std::set<std::string>{std::string(kit::outbox::kKept)}
                           : std::set<std::string>(destinations.begin(), destinations.end());
  EXPECT_EQ(rows.size(), sessions.size() * wanted_destinations.size());
  std::map<std::string, std::set<std::string>> destinations_per_event;
  std::map<std::string, std::string> session_of_event;
  for (const OutboxRow& row : rows) {
    EXPECT_EQ(row.type, "session.revoked") << row.payload;
    EXPECT_EQ(row.ordering_key, uuid(user_n)) << row.payload;
    EXPECT_EQ(row.state, row.destination == kit::outbox::kKept ? "kept" : "pending");
    EXPECT_TRUE(contains(row.payload, "password_reset")) << row.payload;
    EXPECT_TRUE(contains(row.payload, uuid(user_n))) << row.payload;
    EXPECT_TRUE(destinations_per_event[row.id].insert(row.destination).second)
        << "event " << row.id << " written twice for " << row.destination;
    std::string session;
    for (const std::string& s : sessions) {
      if (contains(row.payload, s)) session = s;
    }
    EXPECT_NE(session, "") << "no revoked session in " << row.payload;
    auto [it, first] = session_of_event.emplace(row.id, session);
    if (!first) {
      EXPECT_EQ(it->second, session) << "event " << row.id;
    }
  }
  std::set<std::string> announced;
  for (const auto& [event, where] : destinations_per_event) {
    EXPECT_EQ(where, wanted_destinations) << "event " << event;
    announced.insert(session_of_event[event]);
  }
  EXPECT_EQ(announced, std::set<std::string>(sessions.begin(), sessions.end()));
  EXPECT_EQ(destinations_per_event.size(), sessions.size()) << "one event per session";
}

// Runs work(0) … work(workers - 1) at once on the current executor and waits for all of them.
// A worker that throws fails the test, naming the worker; the others run on.
asio::awaitable<void> run_concurrently(int workers,
                                       std::function<asio::awaitable<void>(int)> work) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, steady_clock::time_point::max());
  int running = workers;
  for (int i = 0; i < workers; ++i) {
    auto finished = [&, i](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& error) {
          ADD_FAILURE() << "worker " << i << " threw: " << error.what();
        } catch (...) {
          ADD_FAILURE() << "worker " << i << " threw";
        }
      }
      if (--running == 0) all_done.cancel();
    };
    asio::co_spawn(executor, work(i), finished);
  }
  boost::system::error_code ec;
  auto wait = asio::redirect_error(asio::use_awaitable, ec);
  while (running > 0) co_await all_done.async_wait(wait);
}

class AccountTokenRepositoryContract : public ::testing::TestWithParam<Backend> {
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

  UserRepository& users() { return handle_->users(); }
  SessionRepository& sessions() { return handle_->sessions(); }
  AccountTokenRepository& tokens() { return handle_->tokens(); }
  Handle& db() { return *handle_; }
  // Runs a coroutine to completion on the test's io_context (rethrowing its exception). Only
  // until it completes: the pool's overflow connections wait out their idle timeout on io_.
  void run(std::function<asio::awaitable<void>()> body) { pg_test::run(io_, body()); }
  // Stores the token with no outbox message; fails the test when it is refused.
  asio::awaitable<void> issue(const NewAccountToken& token) {
    const std::vector<Message> none;
    EXPECT_TRUE(co_await tokens().issue(token, none)) << token.hash;
  }
  // The user as stored; fails the test when there is none.
  asio::awaitable<User> stored_user(int n) {
    auto user = co_await users().find_by_id(uuid(n));
    EXPECT_TRUE(user.has_value()) << "user " << n;
    co_return user.value_or(User{});
  }

  asio::io_context io_;
  std::unique_ptr<Handle> handle_;
};

constexpr auto kVerify = TokenPurpose::verify_email;
constexpr auto kReset = TokenPurpose::reset_password;

// ---- issue ----

TEST_P(AccountTokenRepositoryContract, IssueStoresTheTokenWithItsOutboxInOneChange) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    const NewAccountToken token = new_token(1, kVerify, 1);
    // The email to a configured destination, and one kept (no destination configured).
    std::vector<Message> outbox{message(501, "email", 1, "email"),
                                message(502, std::string(kit::outbox::kKept), 1, "email")};
    EXPECT_TRUE(co_await tokens().issue(token, outbox));
    EXPECT_EQ(co_await db().token_count(), 1);
    EXPECT_EQ(co_await db().token_spent(token.hash), std::optional<bool>(false));

    const auto usable = co_await tokens().find_usable(token.hash, kVerify, at(seconds{1}));
    EXPECT_TRUE(usable.has_value());
    if (usable) {
      EXPECT_EQ(usable->user_id, uuid(1));
      EXPECT_EQ(usable->email, email(1));
      EXPECT_EQ(usable->user_email, email(1));
      EXPECT_FALSE(usable->user_email_verified);
    }

    const auto rows = co_await db().outbox();
    EXPECT_EQ(rows.size(), 2u);
    if (rows.size() == 2) {
      for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(rows[i].id, outbox[i].id) << i;
        EXPECT_EQ(rows[i].destination, outbox[i].destination) << i;
        EXPECT_EQ(rows[i].ordering_key, outbox[i].ordering_key) << i;
        EXPECT_EQ(rows[i].type, outbox[i].type) << i;
        EXPECT_EQ(rows[i].payload, outbox[i].payload) << i;
      }
      EXPECT_EQ(rows[0].state, "pending");
      EXPECT_EQ(rows[1].state, "kept");
    }
  });
}

TEST_P(AccountTokenRepositoryContract, IssueForAMissingUserOrAnotherAddressWritesNothing) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    // No such user.
    const NewAccountToken missing = new_token(1, kReset, 2);
    std::vector<Message> outbox{message(501, "email", 2, "email")};
    EXPECT_FALSE(co_await tokens().issue(missing, outbox));
    // The user's address is not (or no longer) the one the token is sent to.
    NewAccountToken elsewhere = new_token(2, kVerify, 1);
    elsewhere.email = "someone-else@example.io";
    outbox = {message(502, "email", 1, "email")};
    EXPECT_FALSE(co_await tokens().issue(elsewhere, outbox));

    EXPECT_EQ(co_await db().token_count(), 0);
    EXPECT_TRUE((co_await db().outbox()).empty());
    EXPECT_FALSE((co_await tokens().find_usable(missing.hash, kReset, at())).has_value());
    EXPECT_FALSE((co_await tokens().find_usable(elsewhere.hash, kVerify, at())).has_value());
  });
}

// ---- find_usable ----

TEST_P(AccountTokenRepositoryContract, FindUsableOnlyForItsPurposeAndUntilItExpires) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    const NewAccountToken verify = new_token(1, kVerify, 1, hours{24});
    const NewAccountToken reset_token = new_token(2, kReset, 1, minutes{30});
    co_await issue(verify);
    co_await issue(reset_token);

    EXPECT_TRUE((co_await tokens().find_usable(verify.hash, kVerify, at())).has_value());
    EXPECT_TRUE((co_await tokens().find_usable(reset_token.hash, kReset, at())).has_value());
    // The other purpose: not found.
    EXPECT_FALSE((co_await tokens().find_usable(verify.hash, kReset, at())).has_value());
    EXPECT_FALSE((co_await tokens().find_usable(reset_token.hash, kVerify, at())).has_value());
    // Unknown hash.
    EXPECT_FALSE((co_await tokens().find_usable(token_hash(99), kVerify, at())).has_value());

    // Usable up to its expiry, expired at expires_at (as sessions are, docs/sessions.md).
    const auto last = reset_token.expires_at - microseconds{1};
    EXPECT_TRUE((co_await tokens().find_usable(reset_token.hash, kReset, last)).has_value());
    EXPECT_FALSE((co_await tokens().find_usable(reset_token.hash, kReset, reset_token.expires_at))
                     .has_value());
    EXPECT_FALSE(
        (co_await tokens().find_usable(reset_token.hash, kReset, at(hours{1}))).has_value());
    EXPECT_TRUE((co_await tokens().find_usable(verify.hash, kVerify, at(hours{23}))).has_value());
    EXPECT_FALSE((co_await tokens().find_usable(verify.hash, kVerify, at(hours{25}))).has_value());
  });
}

TEST_P(AccountTokenRepositoryContract, FindUsableShowsTheUserAsItIsNow) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    co_await users().create(new_user(2, true));
    const NewAccountToken one = new_token(1, kReset, 1);
    const NewAccountToken two = new_token(2, kReset, 2);
    co_await issue(one);
    co_await issue(two);

    auto usable = co_await tokens().find_usable(two.hash, kReset, at());
    EXPECT_TRUE(usable && usable->user_email_verified) << "user 2 was created verified";

    UserUpdate change;
    change.email = "new@example.io";
    change.updated_at = at(seconds{10});
    EXPECT_TRUE((co_await users().update(uuid(1), change)).has_value());
    usable = co_await tokens().find_usable(one.hash, kReset, at(seconds{11}));
    EXPECT_TRUE(usable.has_value());
    if (usable) {
      EXPECT_EQ(usable->user_id, uuid(1));
      EXPECT_EQ(usable->email, email(1));  // where it was sent
      EXPECT_EQ(usable->user_email, "new@example.io");
      EXPECT_FALSE(usable->user_email_verified);
    }
  });
}

TEST_P(AccountTokenRepositoryContract, ADeletedUserTakesItsTokensAlong) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    co_await users().create(new_user(2));
    co_await issue(new_token(1, kVerify, 1));
    co_await issue(new_token(2, kReset, 1));
    co_await issue(new_token(3, kReset, 2));
    EXPECT_TRUE(co_await users().remove(uuid(1)));
    EXPECT_FALSE((co_await tokens().find_usable(token_hash(1), kVerify, at())).has_value());
    EXPECT_FALSE((co_await tokens().find_usable(token_hash(2), kReset, at())).has_value());
    EXPECT_EQ(co_await db().token_count(), 1);  // ON DELETE CASCADE
    EXPECT_TRUE((co_await tokens().find_usable(token_hash(3), kReset, at())).has_value());
    // Nothing to spend either.
    EXPECT_FALSE((co_await tokens().verify_email(verification(1, 1, at()))).has_value());
    EXPECT_FALSE(
        (co_await tokens().reset_password(reset(2, 1, "$argon2id$new", at()))).has_value());
  });
}

// ---- verify_email ----

TEST_P(AccountTokenRepositoryContract, VerifyEmailMarksTheUserVerifiedAndSpendsTheToken) {
  run([&]() -> asio::awaitable<void> {
    const User created = co_await users().create(new_user(1));
    EXPECT_FALSE(created.email_verified);
    const NewAccountToken token = new_token(1, kVerify, 1);
    std::vector<Message> mail{message(501, "email", 1, "email")};
    EXPECT_TRUE(co_await tokens().issue(token, mail));

    std::vector<Message> events{message(601, "hooks-a", 1, "user.email_verified"),
                                message(601, "hooks-b", 1, "user.email_verified")};
    const auto verified =
        co_await tokens().verify_email(verification(1, 1, at(minutes{1}), events));
    EXPECT_TRUE(verified.has_value());
    User expected = created;
    expected.email_verified = true;
    expected.updated_at = at(minutes{1});
    if (verified) expect_same_user(*verified, expected, "returned");
    expect_same_user(co_await stored_user(1), expected, "stored");

    // Spent: usable no more, a second call does nothing.
    EXPECT_EQ(co_await db().token_spent(token.hash), std::optional<bool>(true));
    EXPECT_FALSE((co_await tokens().find_usable(token.hash, kVerify, at(minutes{2}))).has_value());
    std::vector<Message> again{message(602, "hooks-a", 1, "user.email_verified")};
    EXPECT_FALSE(
        (co_await tokens().verify_email(verification(1, 1, at(minutes{2}), again))).has_value());
    expect_same_user(co_await stored_user(1), expected, "after the second call");

    // The email of issue(), then the events of the one verification, as given.
    const auto rows = co_await db().outbox();
    const std::vector<std::string> written{uuid(501), uuid(601), uuid(601)};
    EXPECT_EQ(ids(rows), written);
    if (rows.size() == 3) {
      EXPECT_EQ(rows[1].destination, "hooks-a");
      EXPECT_EQ(rows[2].destination, "hooks-b");
      EXPECT_EQ(rows[1].type, "user.email_verified");
      EXPECT_EQ(rows[1].ordering_key, uuid(1));
      EXPECT_EQ(rows[1].payload, events[0].payload);
      EXPECT_EQ(rows[1].state, "pending");
    }
  });
}

TEST_P(AccountTokenRepositoryContract, VerifyingAVerifiedAddressSpendsTheTokenButAnnouncesNothing) {
  run([&]() -> asio::awaitable<void> {
    // Two links sent to one address: the second one clicked finds it verified already.
    const User created = co_await users().create(new_user(1));
    co_await issue(new_token(1, kVerify, 1));
    co_await issue(new_token(2, kVerify, 1));
    std::vector<Message> first_events{message(601, "hooks-a", 1, "user.email_verified")};
    EXPECT_TRUE((co_await tokens().verify_email(verification(1, 1, at(minutes{1}), first_events)))
                    .has_value());
    std::vector<Message> second_events{message(602, "hooks-a", 1, "user.email_verified")};
    const auto second =
        co_await tokens().verify_email(verification(2, 1, at(minutes{2}), second_events));
    EXPECT_TRUE(second.has_value());
    User expected = created;
    expected.email_verified = true;
    expected.updated_at = at(minutes{1});  // unchanged by the second verification
    if (second) expect_same_user(*second, expected, "returned");
    expect_same_user(co_await stored_user(1), expected, "stored");
    EXPECT_EQ(co_await db().token_spent(token_hash(2)), std::optional<bool>(true));
    const std::vector<std::string> announced{uuid(601)};
    EXPECT_EQ(ids(co_await db().outbox()), announced);

    // A user created verified: the same.
    const User verified = co_await users().create(new_user(2, true));
    co_await issue(new_token(3, kVerify, 2));
    std::vector<Message> events{message(603, "hooks-a", 2, "user.email_verified")};
    const auto third = co_await tokens().verify_email(verification(3, 2, at(minutes{3}), events));
    EXPECT_TRUE(third.has_value());
    if (third) expect_same_user(*third, verified, "created verified");
    EXPECT_EQ(co_await db().token_spent(token_hash(3)), std::optional<bool>(true));
    EXPECT_EQ(ids(co_await db().outbox()), announced);
  });
}

TEST_P(AccountTokenRepositoryContract, VerifyEmailDoesNothingOnceTheAddressChanged) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    co_await issue(new_token(1, kVerify, 1));
    UserUpdate change;
    change.email = "new@example.io";
    change.updated_at = at(seconds{10});
    const auto changed = co_await users().update(uuid(1), change);
    EXPECT_TRUE(changed.has_value());
    const std::size_t before = (co_await db().outbox()).size();

    std::vector<Message> events{message(601, "hooks-a", 1, "user.email_verified")};
    EXPECT_FALSE(
        (co_await tokens().verify_email(verification(1, 1, at(minutes{1}), events))).has_value());
    const User user = co_await stored_user(1);
    EXPECT_FALSE(user.email_verified);
    EXPECT_EQ(user.email, "new@example.io");
    EXPECT_EQ(user.updated_at, at(seconds{10}));
    EXPECT_EQ((co_await db().outbox()).size(), before);
  });
}

TEST_P(AccountTokenRepositoryContract, VerifyEmailRefusesAnExpiredUnknownOrResetToken) {
  run([&]() -> asio::awaitable<void> {
    const User created = co_await users().create(new_user(1));
    co_await issue(new_token(1, kVerify, 1, minutes{10}));
    co_await issue(new_token(2, kReset, 1));
    std::vector<Message> events{message(601, "hooks-a", 1, "user.email_verified")};
    // Expired (at expires_at and after), unknown, or a reset token.
    EXPECT_FALSE(
        (co_await tokens().verify_email(verification(1, 1, at(minutes{10}), events))).has_value());
    EXPECT_FALSE(
        (co_await tokens().verify_email(verification(1, 1, at(hours{1}), events))).has_value());
    EXPECT_FALSE((co_await tokens().verify_email(verification(99, 1, at(), events))).has_value());
    EXPECT_FALSE((co_await tokens().verify_email(verification(2, 1, at(), events))).has_value());
    expect_same_user(co_await stored_user(1), created, "unchanged");
    EXPECT_TRUE((co_await db().outbox()).empty());
    EXPECT_EQ(co_await db().token_spent(token_hash(1)), std::optional<bool>(false));
    EXPECT_EQ(co_await db().token_spent(token_hash(2)), std::optional<bool>(false));
    EXPECT_TRUE((co_await tokens().find_usable(token_hash(2), kReset, at())).has_value());
  });
}

// ---- reset_password ----

TEST_P(AccountTokenRepositoryContract, ResetPasswordSetsTheHashAndEndsEverySession) {
  run([&]() -> asio::awaitable<void> {
    const User created = co_await users().create(new_user(1));
    co_await users().create(new_user(2));
    for (int n = 1; n <= 3; ++n) co_await sessions().create(new_session(n, 1));
    co_await sessions().create(new_session(4, 2));
    // Session 3 ended before: it stays as it was, and announces nothing again.
    EXPECT_TRUE(co_await sessions().revoke(uuid(103), std::nullopt, at(seconds{1}), "logout"));
    co_await issue(new_token(1, kReset, 1));
    co_await issue(new_token(2, kReset, 1));   // another reset link of the user
    co_await issue(new_token(3, kVerify, 1));  // a verification link of the user
    co_await issue(new_token(4, kReset, 2));   // another user's
    const std::size_t before = (co_await db().outbox()).size();

    std::vector<Message> events{message(701, "hooks-a", 1, "user.password_changed"),
                                message(701, "hooks-b", 1, "user.password_changed")};
    const auto done =
        co_await tokens().reset_password(reset(1, 1, "$argon2id$reset", at(minutes{5}), events));
    EXPECT_TRUE(done.has_value());
    User expected = created;
    expected.password_hash = "$argon2id$reset";
    expected.email_verified = true;  // the link proved the address
    expected.updated_at = at(minutes{5});
    if (done) expect_same_user(*done, expected, "returned");
    expect_same_user(co_await stored_user(1), expected, "stored");

    // This and the user's other reset tokens are spent; the verification token and the other
    // user's are not.
    EXPECT_EQ(co_await db().token_spent(token_hash(1)), std::optional<bool>(true));
    EXPECT_EQ(co_await db().token_spent(token_hash(2)), std::optional<bool>(true));
    EXPECT_EQ(co_await db().token_spent(token_hash(3)), std::optional<bool>(false));
    EXPECT_EQ(co_await db().token_spent(token_hash(4)), std::optional<bool>(false));
    EXPECT_FALSE(
        (co_await tokens().find_usable(token_hash(2), kReset, at(minutes{6}))).has_value());
    const auto verify = co_await tokens().find_usable(token_hash(3), kVerify, at(minutes{6}));
    EXPECT_TRUE(verify && verify->user_email_verified);
    EXPECT_TRUE((co_await tokens().find_usable(token_hash(4), kReset, at(minutes{6}))).has_value());

    // Every active session of the user ended, for password_reset; the other user's lives.
    EXPECT_TRUE((co_await sessions().list_active(uuid(1), at(minutes{6}))).empty());
    EXPECT_EQ((co_await sessions().list_active(uuid(2), at(minutes{6}))).size(), 1u);
    EXPECT_EQ(co_await db().revoke_reason(uuid(101)), std::optional<std::string>("password_reset"));
    EXPECT_EQ(co_await db().revoke_reason(uuid(102)), std::optional<std::string>("password_reset"));
    EXPECT_EQ(co_await db().revoke_reason(uuid(103)), std::optional<std::string>("logout"));
    EXPECT_FALSE((co_await db().revoke_reason(uuid(104))).has_value());

    // The events given, and one session.revoked per ended session per destination.
    const auto rows = after(co_await db().outbox(), before);
    std::vector<OutboxRow> given;
    std::vector<OutboxRow> revoked;
    for (const OutboxRow& row : rows) (row.id == uuid(701) ? given : revoked).push_back(row);
    EXPECT_EQ(given.size(), 2u);
    for (const OutboxRow& row : given) {
      EXPECT_EQ(row.type, "user.password_changed");
      EXPECT_EQ(row.payload, events[0].payload);
      EXPECT_EQ(row.state, "pending");
    }
    const std::vector<std::string> ended{uuid(101), uuid(102)};
    expect_revoked_events(revoked, ended, 1, kDestinations);

    // Spent: nothing more happens, with this token or the other one.
    const std::size_t all = (co_await db().outbox()).size();
    EXPECT_FALSE((co_await tokens().reset_password(reset(1, 1, "$argon2id$again", at(minutes{7}))))
                     .has_value());
    EXPECT_FALSE((co_await tokens().reset_password(reset(2, 1, "$argon2id$again", at(minutes{7}))))
                     .has_value());
    expect_same_user(co_await stored_user(1), expected, "after the spent tokens");
    EXPECT_EQ((co_await db().outbox()).size(), all);
  });
}

TEST_P(AccountTokenRepositoryContract, AResetSentToAnOldAddressDoesNotVerifyTheNewOne) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    co_await sessions().create(new_session(1, 1));
    co_await issue(new_token(1, kReset, 1));
    UserUpdate change;
    change.email = "new@example.io";
    change.updated_at = at(seconds{10});
    EXPECT_TRUE((co_await users().update(uuid(1), change)).has_value());
    const std::size_t before = (co_await db().outbox()).size();

    // No destination configured: the session.revoked rows are kept.
    const auto done = co_await handle_->tokens_kept().reset_password(
        reset(1, 1, "$argon2id$reset", at(minutes{5})));
    EXPECT_TRUE(done.has_value());
    if (done) {
      EXPECT_EQ(done->email, "new@example.io");
      EXPECT_EQ(done->password_hash, "$argon2id$reset");
      EXPECT_FALSE(done->email_verified);
    }
    const User user = co_await stored_user(1);
    EXPECT_EQ(user.password_hash, "$argon2id$reset");
    EXPECT_FALSE(user.email_verified);
    EXPECT_TRUE((co_await sessions().list_active(uuid(1), at(minutes{6}))).empty());
    const std::vector<std::string> ended{uuid(101)};
    const std::vector<std::string> no_destinations;
    const auto rows = after(co_await db().outbox(), before);
    expect_revoked_events(rows, ended, 1, no_destinations);
  });
}

TEST_P(AccountTokenRepositoryContract, ResetPasswordRefusesAnExpiredUnknownOrVerificationToken) {
  run([&]() -> asio::awaitable<void> {
    const User created = co_await users().create(new_user(1));
    co_await sessions().create(new_session(1, 1));
    co_await issue(new_token(1, kReset, 1, minutes{30}));
    co_await issue(new_token(2, kVerify, 1));
    const std::size_t before = (co_await db().outbox()).size();
    std::vector<Message> events{message(701, "hooks-a", 1, "user.password_changed")};
    EXPECT_FALSE(
        (co_await tokens().reset_password(reset(1, 1, "$argon2id$x", at(minutes{30}), events)))
            .has_value());
    EXPECT_FALSE(
        (co_await tokens().reset_password(reset(1, 1, "$argon2id$x", at(hours{2}), events)))
            .has_value());
    EXPECT_FALSE(
        (co_await tokens().reset_password(reset(99, 1, "$argon2id$x", at(), events))).has_value());
    EXPECT_FALSE(
        (co_await tokens().reset_password(reset(2, 1, "$argon2id$x", at(), events))).has_value());
    expect_same_user(co_await stored_user(1), created, "unchanged");
    EXPECT_EQ((co_await sessions().list_active(uuid(1), at(minutes{1}))).size(), 1u);
    EXPECT_EQ((co_await db().outbox()).size(), before);
    EXPECT_EQ(co_await db().token_spent(token_hash(1)), std::optional<bool>(false));
    EXPECT_EQ(co_await db().token_spent(token_hash(2)), std::optional<bool>(false));
  });
}

// ---- purge ----

TEST_P(AccountTokenRepositoryContract, PurgeDeletesOnlyExpiredTokensInBoundedBatches) {
  run([&]() -> asio::awaitable<void> {
    co_await users().create(new_user(1));
    co_await users().create(new_user(2));
    co_await issue(new_token(1, kReset, 1, minutes{10}));
    co_await issue(new_token(2, kVerify, 1, minutes{20}));
    co_await issue(new_token(3, kReset, 2, minutes{30}));
    co_await issue(new_token(4, kVerify, 2, minutes{40}));
    co_await issue(new_token(5, kVerify, 2, hours{24}));
    // A spent token stays until it expires.
    EXPECT_TRUE((co_await tokens().verify_email(verification(5, 2, at(minutes{1})))).has_value());

    EXPECT_EQ(co_await tokens().purge(at(minutes{35}), 0), 0);
    EXPECT_EQ(co_await tokens().purge(at(minutes{35}), 2), 2);
    EXPECT_EQ(co_await tokens().purge(at(minutes{35}), 2), 1);
    EXPECT_EQ(co_await tokens().purge(at(minutes{35}), 2), 0);
    EXPECT_EQ(co_await db().token_count(), 2);
    EXPECT_FALSE((co_await db().token_spent(token_hash(1))).has_value());
    EXPECT_FALSE((co_await db().token_spent(token_hash(2))).has_value());
    EXPECT_FALSE((co_await db().token_spent(token_hash(3))).has_value());
    EXPECT_TRUE(
        (co_await tokens().find_usable(token_hash(4), kVerify, at(minutes{39}))).has_value());
    EXPECT_EQ(co_await db().token_spent(token_hash(5)), std::optional<bool>(true));

    EXPECT_EQ(co_await tokens().purge(at(hours{48}), 10), 2);
    EXPECT_EQ(co_await db().token_count(), 0);
    // The users are untouched.
    EXPECT_TRUE((co_await users().find_by_id(uuid(1))).has_value());
    EXPECT_TRUE((co_await users().find_by_id(uuid(2))).has_value());
  });
}

// ---- concurrency ----

constexpr int kRacers = 8;
constexpr int kRounds = 3;

TEST_P(AccountTokenRepositoryContract, ConcurrentVerificationsWithOneTokenHaveOneWinner) {
  run([&]() -> asio::awaitable<void> {
    for (int round = 0; round < kRounds; ++round) {
      const int user_n = round + 1;
      co_await users().create(new_user(user_n));
      co_await issue(new_token(user_n, kVerify, user_n));
      const std::size_t before = (co_await db().outbox()).size();
      // Each racer with an event of its own, to see whose was written.
      std::vector<EmailVerification> calls;
      for (int i = 0; i < kRacers; ++i) {
        std::vector<Message> events{
            message(1000 * user_n + i, "hooks-a", user_n, "user.email_verified")};
        calls.push_back(verification(user_n, user_n, at(minutes{1}), events));
      }
      std::vector<int> winners;
      std::function<asio::awaitable<void>(int)> racer = [&](int i) -> asio::awaitable<void> {
        const auto user = co_await tokens().verify_email(calls[static_cast<std::size_t>(i)]);
        if (user) {
          winners.push_back(i);
          EXPECT_TRUE(user->email_verified);
        }
      };
      co_await run_concurrently(kRacers, racer);
      EXPECT_EQ(winners.size(), 1u) << "round " << round;
      const auto rows = after(co_await db().outbox(), before);
      EXPECT_EQ(rows.size(), 1u) << "round " << round;
      if (winners.size() == 1 && rows.size() == 1) {
        EXPECT_EQ(rows[0].id, uuid(1000 * user_n + winners[0])) << "round " << round;
      }
      EXPECT_TRUE((co_await stored_user(user_n)).email_verified);
    }
  });
}

TEST_P(AccountTokenRepositoryContract, ConcurrentResetsWithOneTokenHaveOneWinner) {
  run([&]() -> asio::awaitable<void> {
    for (int round = 0; round < kRounds; ++round) {
      const int user_n = round + 1;
      co_await users().create(new_user(user_n));
      for (int s = 0; s < 2; ++s) co_await sessions().create(new_session(10 * user_n + s, user_n));
      co_await issue(new_token(user_n, kReset, user_n));
      const std::size_t before = (co_await db().outbox()).size();
      std::vector<PasswordReset> calls;
      for (int i = 0; i < kRacers; ++i) {
        std::vector<Message> events{
            message(1000 * user_n + i, "hooks-a", user_n, "user.password_changed")};
        calls.push_back(
            reset(user_n, user_n, "$argon2id$racer" + std::to_string(i), at(minutes{1}), events));
      }
      std::vector<int> winners;
      std::function<asio::awaitable<void>(int)> racer = [&](int i) -> asio::awaitable<void> {
        const auto user = co_await tokens().reset_password(calls[static_cast<std::size_t>(i)]);
        if (user) winners.push_back(i);
      };
      co_await run_concurrently(kRacers, racer);
      EXPECT_EQ(winners.size(), 1u) << "round " << round;
      if (winners.size() != 1) continue;
      const std::string winner = uuid(1000 * user_n + winners[0]);
      EXPECT_EQ((co_await stored_user(user_n)).password_hash,
                "$argon2id$racer" + std::to_string(winners[0]));
      // The winner's event, and each session's revocation announced once.
      const auto rows = after(co_await db().outbox(), before);
      std::vector<OutboxRow> given;
      std::vector<OutboxRow> revoked;
      for (const OutboxRow& row : rows) {
        (row.type == "session.revoked" ? revoked : given).push_back(row);
      }
      EXPECT_EQ(ids(given), std::vector<std::string>{winner}) << "round " << round;
      const std::vector<std::string> ended{uuid(100 + 10 * user_n), uuid(101 + 10 * user_n)};
      expect_revoked_events(revoked, ended, user_n, kDestinations);
    }
  });
}

TEST_P(AccountTokenRepositoryContract, ConcurrentResetsWithTwoTokensOfOneUserHaveOneWinner) {
  // Each reset spends the user's other reset tokens: of two links used at once, one wins.
  run([&]() -> asio::awaitable<void> {
    for (int round = 0; round < kRounds; ++round) {
      const int user_n = round + 1;
      co_await users().create(new_user(user_n));
      std::vector<PasswordReset> calls;
      for (int i = 0; i < kRacers; ++i) {
        const int token_n = 100 * user_n + i;
        co_await issue(new_token(token_n, kReset, user_n));
        calls.push_back(
            reset(token_n, user_n, "$argon2id$racer" + std::to_string(i), at(minutes{1})));
      }
      int winners = 0;
      std::function<asio::awaitable<void>(int)> racer = [&](int i) -> asio::awaitable<void> {
        if (co_await tokens().reset_password(calls[static_cast<std::size_t>(i)])) ++winners;
      };
      co_await run_concurrently(kRacers, racer);
      EXPECT_EQ(winners, 1) << "round " << round;
      for (int i = 0; i < kRacers; ++i) {
        EXPECT_EQ(co_await db().token_spent(token_hash(100 * user_n + i)),
                  std::optional<bool>(true))
            << "round " << round << " token " << i;
      }
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Sqlite, AccountTokenRepositoryContract,
                         ::testing::Values(Backend{"file", [] { return open_sqlite(false); }},
                                           Backend{"memory", [] { return open_sqlite(true); }}),
                         backend_name<Handle>);
INSTANTIATE_TEST_SUITE_P(Postgres, AccountTokenRepositoryContract,
                         ::testing::Values(Backend{"postgres", [] { return open_postgres(); }}),
                         backend_name<Handle>);

}  // namespace
}  // namespace user_service::repositories::account_token_contract

#pragma GCC diagnostic pop
