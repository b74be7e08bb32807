// PgUserRepository against a real PostgreSQL: CRUD, case-insensitive unique email under
// concurrency, keyset pagination and timestamp precision. One fresh database for the suite.
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>

#include "kit/db/pg/migrate.hpp"
#include "kit/db/pg/pool.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/pg_user_repository.hpp"
#include "tests/support/pg_server.hpp"

namespace {

using namespace pg_test;
using user_service::domain::Role;
using user_service::domain::Timestamp;
using user_service::domain::User;
using user_service::repositories::EmailTaken;
using user_service::repositories::NewUser;
using user_service::repositories::PageCursor;
using user_service::repositories::PgUserRepository;
using user_service::repositories::UserUpdate;

Timestamp now_us() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

NewUser new_user(std::string email, Timestamp created = now_us()) {
  NewUser u;
  u.id = kit::util::uuid_v7();
  u.email = std::move(email);
  u.name = "Ada Lovelace";
  u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
  u.created_at = created;
  return u;
}

class PgUserRepositoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TempDatabase("ustest_users_");
    asio::io_context ctx;
    kit::db::pg::PoolOptions o;
    o.conninfo = db_->url();
    Pool pool(ctx.get_executor(), o);
    run(ctx, kit::db::pg::migrate(
                 pool, kit::db::migrations::load(user_service::embedded_migrations(), "postgres")));
    run(ctx, pool.close());
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  using Pool = kit::db::pg::Pool;

  void SetUp() override {
    kit::db::pg::PoolOptions o;
    o.conninfo = db_->url();
    o.application_name = "user-repo-test";
    o.size = 2;
    o.max_overflow = 2;
    pool_ = std::make_unique<Pool>(ctx_.get_executor(), o);
    repo_ = std::make_unique<PgUserRepository>(*pool_);
    run(ctx_, pool_->with_connection([](kit::db::pg::Connection& c) -> asio::awaitable<void> {
      co_await c.exec("DELETE FROM users");
    }));
  }
  void TearDown() override { run(ctx_, pool_->close()); }

  static TempDatabase* db_;
  asio::io_context ctx_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<PgUserRepository> repo_;
};

TempDatabase* PgUserRepositoryTest::db_ = nullptr;

TEST_F(PgUserRepositoryTest, CreateThenFindByIdAndEmail) {
  const NewUser u = new_user("ada@example.com");
  const User created = run(ctx_, repo_->create(u));
  EXPECT_EQ(created.id, u.id);
  EXPECT_EQ(created.email, u.email);
  EXPECT_EQ(created.name, u.name);
  EXPECT_EQ(created.password_hash, u.password_hash);
  EXPECT_EQ(created.role, Role::user);
  EXPECT_EQ(created.created_at, u.created_at);
  EXPECT_EQ(created.updated_at, u.created_at);

  auto by_id = run(ctx_, repo_->find_by_id(u.id));
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->email, u.email);
  auto by_email = run(ctx_, repo_->find_by_email("ADA@Example.COM"));
  ASSERT_TRUE(by_email);
  EXPECT_EQ(by_email->id, u.id);

  EXPECT_FALSE(run(ctx_, repo_->find_by_id(kit::util::uuid_v4())));
  EXPECT_FALSE(run(ctx_, repo_->find_by_id("not-a-uuid")));
  EXPECT_FALSE(run(ctx_, repo_->find_by_email("nobody@example.com")));
}

TEST_F(PgUserRepositoryTest, EmailIsUniqueCaseInsensitively) {
  run(ctx_, repo_->create(new_user("grace@example.com")));
  EXPECT_THROW(run(ctx_, repo_->create(new_user("Grace@Example.com"))), EmailTaken);
}

TEST_F(PgUserRepositoryTest, ReplayingACreateReturnsTheSameUser) {
  // What a retry after a lost acknowledgement does: the same id and row again.
  const NewUser u = new_user("replay@example.com");
  const User first = run(ctx_, repo_->create(u));
  const User again = run(ctx_, repo_->create(u));
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.created_at, first.created_at);
}

TEST_F(PgUserRepositoryTest, ConcurrentCreatesOfOneEmailLetExactlyOneWin) {
  for (int round = 0; round < 10; ++round) {
    const std::string email = "race" + std::to_string(round) + "@example.com";
    int created = 0, taken = 0, other = 0, finished = 0;
    for (int i = 0; i < 4; ++i) {
      asio::co_spawn(
          ctx_,
          [&, i]() -> asio::awaitable<void> {
            // Named before co_await: GCC 12 destroys temporaries of a conditional
            // expression inside a co_await full-expression twice.
            const std::string spelled = i % 2 ? email : "RACE" + email.substr(4);
            const NewUser user = new_user(spelled);
            try {
              co_await repo_->create(user);
              ++created;
            } catch (const EmailTaken&) {
              ++taken;
            } catch (...) {
              ++other;
            }
            ++finished;
          },
          asio::detached);
    }
    run(ctx_, [&]() -> asio::awaitable<void> {
      while (finished < 4) co_await sleep_for(2ms);
    }());
    EXPECT_EQ(created, 1) << email;
    EXPECT_EQ(taken, 3) << email;
    EXPECT_EQ(other, 0) << email;
  }
}

TEST_F(PgUserRepositoryTest, UpdateChangesOnlyGivenFields) {
  const NewUser u = new_user("linus@example.com");
  run(ctx_, repo_->create(u));
  UserUpdate change;
  change.name = "Linus T.";
  change.role = Role::admin;
  change.updated_at = u.created_at + std::chrono::seconds{5};
  auto updated = run(ctx_, repo_->update(u.id, change));
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->name, "Linus T.");
  EXPECT_EQ(updated->role, Role::admin);
  EXPECT_EQ(updated->email, u.email);
  EXPECT_EQ(updated->password_hash, u.password_hash);
  EXPECT_EQ(updated->created_at, u.created_at);
  EXPECT_EQ(updated->updated_at, change.updated_at);

  UserUpdate password;
  password.password_hash = "$argon2id$new";
  password.updated_at = change.updated_at + std::chrono::microseconds{1};
  updated = run(ctx_, repo_->update(u.id, password));
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->password_hash, "$argon2id$new");
  EXPECT_EQ(updated->name, "Linus T.");

  EXPECT_FALSE(run(ctx_, repo_->update(kit::util::uuid_v4(), change)));
  EXPECT_FALSE(run(ctx_, repo_->update("nope", change)));
}

TEST_F(PgUserRepositoryTest, UpdateToATakenEmailThrows) {
  run(ctx_, repo_->create(new_user("first@example.com")));
  const NewUser second = new_user("second@example.com");
  run(ctx_, repo_->create(second));
  UserUpdate change;
  change.email = "FIRST@example.com";
  change.updated_at = now_us();
  EXPECT_THROW(run(ctx_, repo_->update(second.id, change)), EmailTaken);
  change.email = "second+new@example.com";
  auto updated = run(ctx_, repo_->update(second.id, change));
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->email, "second+new@example.com");
}

TEST_F(PgUserRepositoryTest, RemoveDeletesOnce) {
  const NewUser u = new_user("gone@example.com");
  run(ctx_, repo_->create(u));
  EXPECT_TRUE(run(ctx_, repo_->remove(u.id)));
  EXPECT_FALSE(run(ctx_, repo_->remove(u.id)));
  EXPECT_FALSE(run(ctx_, repo_->find_by_id(u.id)));
  EXPECT_FALSE(run(ctx_, repo_->remove("not-a-uuid")));
}

TEST_F(PgUserRepositoryTest, ListPagesNewestFirstWithKeysetCursors) {
  // 7 users, two of them created in the same microsecond (ties are broken by id, descending).
  const Timestamp base = now_us() - std::chrono::hours{1};
  std::vector<NewUser> users;
  for (int i = 0; i < 7; ++i) {
    const Timestamp at = base + std::chrono::seconds{i == 6 ? 5 : i};
    users.push_back(new_user("user" + std::to_string(i) + "@example.com", at));
    run(ctx_, repo_->create(users.back()));
  }
  std::vector<NewUser> expected = users;
  std::sort(expected.begin(), expected.end(), [](const NewUser& a, const NewUser& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });

  std::vector<std::string> seen;
  std::optional<PageCursor> cursor;
  int pages = 0;
  do {
    auto page = run(ctx_, repo_->list(3, cursor));
    ++pages;
    EXPECT_LE(page.items.size(), 3u);
    for (const auto& u : page.items) seen.push_back(u.id);
    cursor = page.next;
    if (cursor) {
      EXPECT_EQ(cursor->id, page.items.back().id);
      EXPECT_EQ(cursor->created_at, page.items.back().created_at);
    }
  } while (cursor && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), expected.size());
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], expected[i].id) << i;

  // An exact multiple of the page size: the last full page says nothing follows.
  auto all = run(ctx_, repo_->list(7, std::nullopt));
  EXPECT_EQ(all.items.size(), 7u);
  EXPECT_FALSE(all.next);
  EXPECT_THROW(run(ctx_, repo_->list(3, PageCursor{base, "bad"})), std::invalid_argument);
}

TEST_F(PgUserRepositoryTest, TimestampsKeepMicrosecondsInUtc) {
  using namespace std::chrono;
  const Timestamp at = sys_days{year{2030} / 12 / 31} + 23h + 59min + 59s + microseconds{999999};
  const NewUser u = new_user("time@example.com", at);
  run(ctx_, repo_->create(u));
  auto found = run(ctx_, repo_->find_by_id(u.id));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->created_at, at);
  EXPECT_EQ(found->updated_at, at);
}

}  // namespace
