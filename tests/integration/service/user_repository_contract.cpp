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

namespace user_service::repositories::contract {
namespace {

namespace asio = boost::asio;
using namespace std::chrono;
using domain::Role;
using domain::Timestamp;
using domain::User;

// 2026-11-25T02:11:00.123456Z, plus an offset.
Timestamp at(microseconds offset = microseconds{0}) {
  return Timestamp{sys_days{year{2026} / 11 / 25} + hours{2} + minutes{11} + microseconds{123456}} +
         offset;
}

// Distinct, valid, lowercase UUID text ordered by n.
std::string uuid(int n) {
  char buf[37];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

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

// ---- find_by_ids (one statement for several ids) ----

namespace {

std::set<std::string> ids_of(const std::vector<User>& users) {
  std::set<std::string> out;
  for (const User& u : users) out.insert(u.id);
  return out;
}

}  // namespace

// The inputs are built outside the coroutines: GCC 12 reports a false
// -Wmismatched-new-delete for coroutine lambdas holding initializer-list vectors.
TEST_P(UserRepositoryContract, FindByIdsReturnsEveryStoredUserAsAWhole) {
  const NewUser first = new_user(1, "ada@example.io");
  NewUser second = new_user(2, "root@example.io", at(seconds{5}));
  second.role = Role::admin;
  const NewUser third = new_user(3, "other@example.io");  // not asked for, not returned
  const std::vector<std::string> ids{uuid(2), uuid(1)};
  const std::set<std::string> expected{uuid(1), uuid(2)};
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(first);
    co_await repo().create(second);
    co_await repo().create(third);
    const std::vector<User> found = co_await repo().find_by_ids(ids);
    EXPECT_EQ(ids_of(found), expected);
    for (const User& u : found) expect_same(u, u.id == first.id ? first : second);
  });
}

// One, two and more ids may take different statements (PostgreSQL: `id = $1`, `IN ($1, $2)`,
// `= ANY($1)`): each answers the same way, a repeated id included.
TEST_P(UserRepositoryContract, FindByIdsAnswersAlikeForEveryNumberOfIds) {
  const std::vector<std::vector<std::string>> asked{
      {uuid(1)},          {uuid(1), uuid(2)},          {uuid(2), uuid(2)},
      {uuid(1), uuid(9)}, {uuid(1), uuid(2), uuid(3)}, {uuid(3), uuid(9), uuid(3), uuid(1)}};
  const std::vector<std::set<std::string>> expected{
      {uuid(1)}, {uuid(1), uuid(2)},          {uuid(2)},
      {uuid(1)}, {uuid(1), uuid(2), uuid(3)}, {uuid(1), uuid(3)}};
  run([&]() -> asio::awaitable<void> {
    for (int n = 1; n <= 3; ++n) {
      const NewUser user = new_user(n, "user" + std::to_string(n) + "@example.io");
      co_await repo().create(user);
    }
    for (std::size_t i = 0; i < asked.size(); ++i) {
      const std::vector<User> found = co_await repo().find_by_ids(asked[i]);
      EXPECT_EQ(found.size(), expected[i].size()) << "case " << i;
      EXPECT_EQ(ids_of(found), expected[i]) << "case " << i;
    }
  });
}

TEST_P(UserRepositoryContract, FindByIdsLeavesOutUnknownAndNonUuidIdsAndRepeats) {
  const std::vector<std::string> mixed{uuid(404), uuid(1), "not-a-uuid",
                                       "",        uuid(1), "1'); DROP TABLE users; --"};
  const std::vector<std::string> unknown{uuid(404), uuid(405)};
  const std::vector<std::string> garbage{"not-a-uuid"};
  const std::vector<std::string> none;
  const std::set<std::string> expected{uuid(1)};
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(new_user(1, "ada@example.io"));
    const std::vector<User> found = co_await repo().find_by_ids(mixed);
    EXPECT_EQ(found.size(), 1u);
    EXPECT_EQ(ids_of(found), expected);
    for (const auto* ids : {&unknown, &garbage, &none}) {
      const std::vector<User> nothing = co_await repo().find_by_ids(*ids);
      EXPECT_TRUE(nothing.empty()) << ids->size();
    }
    // The table is still there and intact.
    EXPECT_TRUE((co_await repo().find_by_id(uuid(1))).has_value());
  });
}

TEST_P(UserRepositoryContract, FindByIdsTakesAtMostTheBoundedNumberOfIds) {
  run([&]() -> asio::awaitable<void> {
    std::vector<std::string> ids;
    for (int n = 1; n <= static_cast<int>(kMaxIdsPerLookup); ++n) {
      if (n <= 3) co_await repo().create(new_user(n, "u" + std::to_string(n) + "@x.io"));
      ids.push_back(uuid(n));
    }
    EXPECT_EQ((co_await repo().find_by_ids(ids)).size(), 3u);  // exactly at the bound
    ids.push_back(uuid(static_cast<int>(kMaxIdsPerLookup) + 1));
    EXPECT_THROW(co_await repo().find_by_ids(ids), std::invalid_argument);
  });
}

TEST_P(UserRepositoryContract, EmailIsStoredNormalizedAndFoundInAnyAsciiCase) {
  run([&]() -> asio::awaitable<void> {
    // The repository applies the one normalization itself: trimmed, ASCII letters lowercased.
    const NewUser input = new_user(1, " Grace.Hopper@Example.IO ");
    const User created = co_await repo().create(input);
    EXPECT_EQ(created.email, "grace.hopper@example.io");
    for (const char* query :
         {"Grace.Hopper@Example.IO", "grace.hopper@example.io", "GRACE.HOPPER@EXAMPLE.IO"}) {
      const auto found = co_await repo().find_by_email(query);
      EXPECT_TRUE(found.has_value()) << query;
      if (found) {
        EXPECT_EQ(found->id, input.id);
        EXPECT_EQ(found->email, "grace.hopper@example.io");
      }
    }
  });
}

// GCC 12 reports a false -Wmismatched-new-delete for this coroutine lambda (Asio's inlined
// frame allocator), as in services/user_service.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Only ASCII letters fold: PostgreSQL's lower() folded the rest by locale and SQLite's did not,
// so the two backends disagreed on which addresses were one account.
TEST_P(UserRepositoryContract, NonAsciiLettersKeepTheirCaseOnEveryBackend) {
  // Inputs built outside the coroutine (GCC 12's false -Wmismatched-new-delete, see above).
  const NewUser first = new_user(1, "\u00dcN\u00cf@x.io");   // ÜNÏ
  const NewUser second = new_user(2, "\u00fcn\u00ef@x.io");  // ünï
  const NewUser third = new_user(3, "\u00dcn\u00cf@X.io");
  run([&]() -> asio::awaitable<void> {
    const User upper = co_await repo().create(first);
    const User lower = co_await repo().create(second);
    EXPECT_EQ(upper.email, "\u00dcn\u00cf@x.io");  // the ASCII N folded, Ü and Ï kept
    EXPECT_EQ(lower.email, "\u00fcn\u00ef@x.io");
    const auto a = co_await repo().find_by_email("\u00dcN\u00cf@X.IO");
    const auto b = co_await repo().find_by_email("\u00fcN\u00ef@x.io");
    EXPECT_TRUE(a && a->id == uuid(1));
    EXPECT_TRUE(b && b->id == uuid(2));
    EXPECT_FALSE((co_await repo().find_by_email("\u00fcn\u00cf@x.io")).has_value());
    // ASCII case still makes one address.
    EXPECT_THROW(co_await repo().create(third), EmailTaken);
  });
}
#pragma GCC diagnostic pop

TEST_P(UserRepositoryContract, DuplicateEmailIsEmailTakenCaseInsensitively) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(new_user(1, "a@x.io"));
    EXPECT_THROW(co_await repo().create(new_user(2, "a@x.io")), EmailTaken);
    EXPECT_THROW(co_await repo().create(new_user(3, "A@x.io")), EmailTaken);
    // The failed inserts left nothing behind.
    EXPECT_FALSE((co_await repo().find_by_id(uuid(2))).has_value());
    EXPECT_FALSE((co_await repo().find_by_id(uuid(3))).has_value());
  });
}

TEST_P(UserRepositoryContract, DuplicateIdIsNotReportedAsEmailTaken) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(new_user(1, "a@x.io"));
    bool email_taken = false;
    bool unique_violation = false;
    try {
      co_await repo().create(new_user(1, "b@x.io"));
    } catch (const EmailTaken&) {
      email_taken = true;
    } catch (const kit::db::UniqueViolation&) {
      unique_violation = true;
    }
    EXPECT_FALSE(email_taken);
    EXPECT_TRUE(unique_violation);
  });
}

TEST_P(UserRepositoryContract, TimestampsRoundTripWithMicrosecondPrecision) {
  run([&]() -> asio::awaitable<void> {
    // Odd microseconds, a leap day, the epoch and a date before it.
    const std::vector<Timestamp> times{at(microseconds{1}),
                                       Timestamp{sys_days{year{2024} / 2 / 29}} + hours{23} +
                                           minutes{59} + seconds{59} + microseconds{999999},
                                       Timestamp{},
                                       Timestamp{sys_days{year{1969} / 12 / 31}} + microseconds{7}};
    for (std::size_t i = 0; i < times.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      const NewUser input = new_user(n, "t" + std::to_string(n) + "@x.io", times[i]);
      co_await repo().create(input);
      const auto found = co_await repo().find_by_id(input.id);
      EXPECT_TRUE(found.has_value());
      if (found) {
        EXPECT_EQ(found->created_at, times[i]) << i;
        EXPECT_EQ(found->updated_at, times[i]) << i;
      }
    }
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
