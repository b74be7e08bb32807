// The UserRepository contract (see user_repository_contract.hpp). Every test starts from an
// empty users table and uses only the interface.
#include "user_repository_contract.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <set>
#include <stdexcept>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "kit/db/errors.hpp"
#include "service/repositories/timestamps.hpp"
#include "test_values.hpp"

namespace user_service::repositories::contract {
namespace {

namespace asio = boost::asio;
using namespace std::chrono;
using domain::Role;
using domain::Timestamp;
using domain::User;

using test_values::at;
using test_values::uuid;

NewUser new_user(int n, std::string email, Timestamp created = at()) {
  return NewUser{uuid(n),
                 std::move(email),
                 "User " + std::to_string(n),
                 "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA" + std::to_string(n),
                 Role::user,
                 created};
}

void expect_same(const User& actual, const NewUser& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.email, expected.email);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.password_hash, expected.password_hash);
  EXPECT_EQ(actual.role, expected.role);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.updated_at, expected.created_at);
}

void expect_equal(const User& actual, const User& expected, std::size_t step) {
  EXPECT_EQ(actual.id, expected.id) << step;
  EXPECT_EQ(actual.email, expected.email) << step;
  EXPECT_EQ(actual.name, expected.name) << step;
  EXPECT_EQ(actual.password_hash, expected.password_hash) << step;
  EXPECT_EQ(actual.role, expected.role) << step;
  EXPECT_EQ(actual.created_at, expected.created_at) << step;
  EXPECT_EQ(actual.updated_at, expected.updated_at) << step;
}

}  // namespace

void UserRepositoryContract::run(std::function<asio::awaitable<void>()> body) {
  auto done = asio::co_spawn(io_, std::move(body), asio::use_future);
  io_.restart();
  io_.run();
  done.get();
}

void UserRepositoryContract::SetUp() {
  auto opened = asio::co_spawn(io_, GetParam().open(), asio::use_future);
  io_.run();
  try {
    handle_ = opened.get();
  } catch (const BackendUnavailable& e) {
    GTEST_SKIP() << GetParam().name << " backend unavailable: " << e.what();
  }
  ASSERT_NE(handle_, nullptr);
}

void UserRepositoryContract::TearDown() {
  if (!handle_) return;
  run([this]() -> asio::awaitable<void> { co_await handle_->close(); });
  handle_.reset();
}

// ---- create / find ----

TEST_P(UserRepositoryContract, CreateReturnsTheStoredUserAndFindsItById) {
  run([&]() -> asio::awaitable<void> {
    const NewUser input = new_user(1, "ada@example.io");
    const User created = co_await repo().create(input);
    expect_same(created, input);
    const auto found = co_await repo().find_by_id(input.id);
    EXPECT_TRUE(found.has_value());
    if (found) expect_same(*found, input);
  });
}

TEST_P(UserRepositoryContract, AdminRoleIsStored) {
  run([&]() -> asio::awaitable<void> {
    NewUser input = new_user(1, "root@example.io");
    input.role = Role::admin;
    co_await repo().create(input);
    const auto found = co_await repo().find_by_id(input.id);
    EXPECT_TRUE(found && found->role == Role::admin);
  });
}

TEST_P(UserRepositoryContract, FindOfUnknownIdOrEmailIsEmpty) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(new_user(1, "ada@example.io"));
    EXPECT_FALSE((co_await repo().find_by_id(uuid(2))).has_value());
    EXPECT_FALSE((co_await repo().find_by_email("nobody@example.io")).has_value());
  });
}

// ---- update ----

TEST_P(UserRepositoryContract, UpdateChangesOnlyTheGivenFields) {
  const NewUser input = new_user(1, "a@x.io");
  const std::vector<std::function<void(UserUpdate&)>> edits{
      [](UserUpdate& u) { u.name = "Renamed"; },
      [](UserUpdate& u) { u.email = "new@x.io"; },
      [](UserUpdate& u) { u.password_hash = "$argon2id$new"; },
      [](UserUpdate& u) { u.role = Role::admin; },
      [](UserUpdate&) {},  // only updated_at
  };
  run([&]() -> asio::awaitable<void> {
    User expected = co_await repo().create(input);
    for (std::size_t i = 0; i < edits.size(); ++i) {
      UserUpdate update;
      edits[i](update);
      update.updated_at = at(seconds{static_cast<long>(i) + 1});
      if (update.name) expected.name = *update.name;
      if (update.email) expected.email = *update.email;
      if (update.password_hash) expected.password_hash = *update.password_hash;
      if (update.role) expected.role = *update.role;
      expected.updated_at = update.updated_at;

      const auto returned = co_await repo().update(input.id, update);
      const auto stored = co_await repo().find_by_id(input.id);
      EXPECT_TRUE(returned.has_value() && stored.has_value()) << i;
      if (!returned || !stored) co_return;
      expect_equal(*returned, expected, i);
      expect_equal(*stored, expected, i);
    }
    EXPECT_TRUE((co_await repo().find_by_email("new@x.io")).has_value());
    EXPECT_FALSE((co_await repo().find_by_email("a@x.io")).has_value());
  });
}

TEST_P(UserRepositoryContract, UpdateToATakenEmailIsEmailTakenAndChangesNothing) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(new_user(1, "a@x.io"));
    co_await repo().create(new_user(2, "b@x.io"));
    UserUpdate update;
    update.email = "B@x.io";
    update.name = "Should not stick";
    update.updated_at = at(hours{1});
    EXPECT_THROW(co_await repo().update(uuid(1), update), EmailTaken);
    const auto a = co_await repo().find_by_id(uuid(1));
    EXPECT_TRUE(a && a->email == "a@x.io" && a->name == "User 1" && a->updated_at == at());
  });
}

TEST_P(UserRepositoryContract, UpdateToOwnEmailInAnotherCaseIsAllowed) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(new_user(1, "a@x.io"));
    UserUpdate update;
    update.email = "A@x.io";
    update.updated_at = at(hours{1});
    const auto updated = co_await repo().update(uuid(1), update);
    EXPECT_TRUE(updated && updated->email == "a@x.io");  // stored normalized
  });
}

TEST_P(UserRepositoryContract, UpdateOfAMissingUserIsEmpty) {
  run([&]() -> asio::awaitable<void> {
    UserUpdate update;
    update.name = "Ghost";
    update.updated_at = at();
    EXPECT_FALSE((co_await repo().update(uuid(404), update)).has_value());
  });
}

// ---- remove ----

TEST_P(UserRepositoryContract, RemoveTwiceIsTrueThenFalse) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(new_user(1, "a@x.io"));
    EXPECT_TRUE(co_await repo().remove(uuid(1)));
    EXPECT_FALSE(co_await repo().remove(uuid(1)));
    EXPECT_FALSE((co_await repo().find_by_id(uuid(1))).has_value());
    // The email is free again.
    co_await repo().create(new_user(2, "A@x.io"));
  });
}

// ---- list (keyset pagination) ----

TEST_P(UserRepositoryContract, ListOfAnEmptyRepositoryIsEmpty) {
  run([&]() -> asio::awaitable<void> {
    const Page page = co_await repo().list(10, std::nullopt);
    EXPECT_TRUE(page.items.empty());
    EXPECT_FALSE(page.next.has_value());
  });
}

TEST_P(UserRepositoryContract, ListIsNewestFirstWithTiesByIdDescendingAcrossPages) {
  run([&]() -> asio::awaitable<void> {
    // Seven users: three share one created_at (ties are ordered by id, descending); the others
    // differ by one microsecond, which a second- or millisecond-precision store would lose.
    std::vector<NewUser> users{
        new_user(1, "u1@x.io", at(microseconds{0})), new_user(2, "u2@x.io", at(microseconds{1})),
        new_user(3, "u3@x.io", at(microseconds{5})), new_user(4, "u4@x.io", at(microseconds{5})),
        new_user(5, "u5@x.io", at(microseconds{5})), new_user(6, "u6@x.io", at(microseconds{2})),
        new_user(7, "u7@x.io", at(-seconds{1}))};
    for (const NewUser& u : users) co_await repo().create(u);
    const std::vector<std::string> expected{uuid(5), uuid(4), uuid(3), uuid(6),
                                            uuid(2), uuid(1), uuid(7)};

    for (std::size_t limit : {1u, 2u, 3u, 7u, 100u}) {
      std::vector<std::string> seen;
      std::optional<PageCursor> cursor;
      std::size_t pages = 0;
      do {
        const Page page = co_await repo().list(limit, cursor);
        ++pages;
        EXPECT_LE(page.items.size(), limit);
        for (const User& u : page.items) seen.push_back(u.id);
        if (page.next) {
          // The cursor is the last item of the page, and a full page precedes it.
          EXPECT_EQ(page.items.size(), limit);
          EXPECT_EQ(page.next->id, page.items.back().id);
          EXPECT_EQ(page.next->created_at, page.items.back().created_at);
        }
        cursor = page.next;
      } while (cursor && pages < 20);
      EXPECT_EQ(seen, expected) << "limit " << limit;
      EXPECT_EQ(pages, (expected.size() + limit - 1) / limit) << "limit " << limit;
    }
  });
}

TEST_P(UserRepositoryContract, AnExactlyFullLastPageHasNoNext) {
  run([&]() -> asio::awaitable<void> {
    for (int n = 1; n <= 4; ++n) {
      co_await repo().create(new_user(n, "u" + std::to_string(n) + "@x.io", at(seconds{n})));
    }
    const Page first = co_await repo().list(2, std::nullopt);
    EXPECT_TRUE(first.next.has_value());
    if (!first.next) co_return;
    const Page second = co_await repo().list(2, first.next);
    EXPECT_EQ(second.items.size(), 2u);
    EXPECT_FALSE(second.next.has_value());
  });
}

TEST_P(UserRepositoryContract, ACursorStaysValidAfterItsUserIsRemoved) {
  run([&]() -> asio::awaitable<void> {
    for (int n = 1; n <= 3; ++n) {
      co_await repo().create(new_user(n, "u" + std::to_string(n) + "@x.io", at(seconds{n})));
    }
    const Page first = co_await repo().list(1, std::nullopt);
    EXPECT_TRUE(first.next && first.next->id == uuid(3));
    if (!first.next) co_return;
    co_await repo().remove(uuid(3));
    const Page rest = co_await repo().list(10, first.next);
    EXPECT_EQ(rest.items.size(), 2u);
    if (rest.items.size() == 2) {
      EXPECT_EQ(rest.items[0].id, uuid(2));
      EXPECT_EQ(rest.items[1].id, uuid(1));
    }
  });
}

// A cursor time no backend stores alike (PostgreSQL has no year 0; SQLite compared it as
// text) is refused by every backend before any query, the same way.
TEST_P(UserRepositoryContract, ACursorOutsideTheStorableRangeIsRefusedAlike) {
  // Cursors built outside the coroutine: GCC 12 miscompiles braced temporaries in a co_await.
  const std::optional<PageCursor> year_zero =
      PageCursor{Timestamp{sys_days{year{0} / 1 / 1}}, uuid(9)};
  const std::optional<PageCursor> past_end = PageCursor{kLatestStorable + microseconds{1}, uuid(9)};
  const std::optional<PageCursor> earliest = PageCursor{kEarliestStorable, uuid(9)};
  const std::optional<PageCursor> latest = PageCursor{kLatestStorable, uuid(9)};
  const NewUser one = new_user(1, "u1@x.io");
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(one);
    EXPECT_THROW(co_await repo().list(10, year_zero), std::out_of_range);
    EXPECT_THROW(co_await repo().list(10, past_end), std::out_of_range);
    // Both ends of the range work on every backend.
    const Page none = co_await repo().list(10, earliest);
    EXPECT_TRUE(none.items.empty());
    const Page all = co_await repo().list(10, latest);
    EXPECT_EQ(all.items.size(), 1u);
  });
}

// ---- concurrency ----

TEST_P(UserRepositoryContract, ConcurrentCreatesOfOneEmailLetExactlyOneSucceed) {
  constexpr int kRacers = 20;
  int created = 0;
  int taken = 0;
  int other = 0;
  std::vector<std::future<void>> racers;
  for (int n = 1; n <= kRacers; ++n) {
    // Every racer spells the email differently: uniqueness is case-insensitive.
    std::string email = n % 2 ? "race@x.io" : "RACE@x.io";
    racers.push_back(asio::co_spawn(
        io_,
        [&, n, email]() -> asio::awaitable<void> {
          try {
            co_await repo().create(new_user(n, email));
            ++created;
          } catch (const EmailTaken&) {
            ++taken;
          } catch (...) {
            ++other;
          }
        },
        asio::use_future));
  }
  io_.restart();
  io_.run();
  for (auto& r : racers) r.get();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(taken, kRacers - 1);
  EXPECT_EQ(other, 0);
  run([&]() -> asio::awaitable<void> {
    const Page all = co_await repo().list(100, std::nullopt);
    EXPECT_EQ(all.items.size(), 1u);
  });
}

}  // namespace user_service::repositories::contract
