// The SessionRepository contract, and UserRepository::find_caller that reads through it, on
// every backend of the repository contract suite (user_repository_contract.hpp): each test
// starts from empty tables and uses only the interfaces.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "user_repository_contract.hpp"

namespace user_service::repositories::contract {
namespace {

namespace asio = boost::asio;
using namespace std::chrono;
using domain::Role;
using domain::Timestamp;

Timestamp at(seconds offset = seconds{0}) {
  return Timestamp{sys_days{year{2026} / 12 / 7} + hours{2}} + offset;
}

std::string id(int n) {
  char buf[37];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

std::string hash(int n) {
  std::string h(64, '0');
  const std::string digits = std::to_string(n);
  h.replace(64 - digits.size(), digits.size(), digits);
  return h;
}

NewUser user(int n) {
  return NewUser{id(n),      "u" + std::to_string(n) + "@example.io",
                 "User",     "$argon2id$x",
                 Role::user, at(-hours(1))};
}

// Session 100+n of user n, with refresh token hash(n * 10).
NewSession session(int n, int user_n, Timestamp created = at()) {
  return NewSession{id(100 + n),
                    id(user_n),
                    created,
                    created + hours(24),
                    created + hours(72),
                    "agent " + std::to_string(n),
                    "192.0.2." + std::to_string(n),
                    hash(n * 10)};
}

Rotation rotation(int from, int to, Timestamp now = at(seconds(60))) {
  return Rotation{hash(from), hash(to), std::string(64, 'a' + static_cast<char>(to % 6)), now,
                  now + hours(24)};
}

}  // namespace

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

TEST_P(UserRepositoryContract, FindCallerNeedsTheCallersActiveSession) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(user(1));
    co_await repo().create(user(2));
    co_await sessions().create(session(1, 1));
    co_await sessions().create(session(2, 2));
    const domain::SessionKey mine{id(1), id(101)};
    auto read = co_await repo().find_caller(mine, at());
    EXPECT_TRUE(read.caller && read.caller->id == id(1));
    EXPECT_FALSE(read.other.has_value());
    // With another id, in the same statement.
    read = co_await repo().find_caller(mine, at(), std::string_view(id(2)));
    EXPECT_TRUE(read.caller && read.caller->id == id(1));
    EXPECT_TRUE(read.other && read.other->id == id(2));
    read = co_await repo().find_caller(mine, at(), std::string_view("not-a-uuid"));
    EXPECT_TRUE(read.caller.has_value());
    EXPECT_FALSE(read.other.has_value());
    // Someone else's session, an unknown one, a non-UUID: nothing, not even the other id.
    for (const domain::SessionKey& key :
         {domain::SessionKey{id(1), id(102)}, domain::SessionKey{id(1), id(199)},
          domain::SessionKey{id(1), "x"}, domain::SessionKey{"x", id(101)}}) {
      read = co_await repo().find_caller(key, at(), std::string_view(id(2)));
      EXPECT_FALSE(read.caller.has_value()) << key.user_id << " " << key.session_id;
      EXPECT_FALSE(read.other.has_value());
    }
    // Expired at its expires_at; revoked at once.
    EXPECT_FALSE((co_await repo().find_caller(mine, at(hours(24)))).caller.has_value());
    EXPECT_TRUE(co_await sessions().revoke(id(101), std::nullopt, at(seconds(1)), "logout"));
    EXPECT_FALSE((co_await repo().find_caller(mine, at(seconds(2)))).caller.has_value());
    // A deleted user takes its sessions along.
    EXPECT_TRUE(co_await repo().remove(id(2)));
    EXPECT_EQ(co_await sessions().count_active(at()), 0);
  });
}

TEST_P(UserRepositoryContract, RotationSpendsTheTokenOnceAndRecordsTheSuccessor) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(user(1));
    co_await sessions().create(session(1, 1));
    const auto rotated = co_await sessions().rotate(rotation(10, 11));
    EXPECT_TRUE(rotated.has_value());
    if (rotated) {
      EXPECT_EQ(rotated->session_id, id(101));
      EXPECT_EQ(rotated->user_id, id(1));
      EXPECT_EQ(rotated->expires_at, at(seconds(60)) + hours(24));
    }
    // Spent: a second rotation of it changes nothing.
    EXPECT_FALSE((co_await sessions().rotate(rotation(10, 12))).has_value());
    auto state = co_await sessions().find_refresh(hash(10), at(seconds(61)));
    EXPECT_TRUE(state.has_value());
    if (state) {
      EXPECT_EQ(state->session_id, id(101));
      EXPECT_TRUE(state->session_active);
      EXPECT_EQ(state->spent_at, at(seconds(60)));
      EXPECT_EQ(state->successor_enc, rotation(10, 11).successor_enc);
      EXPECT_FALSE(state->successor_spent);
    }
    EXPECT_FALSE((co_await sessions().find_refresh(hash(12), at())).has_value());
    // The successor is live; once spent, the first token shows it.
    EXPECT_TRUE((co_await sessions().rotate(rotation(11, 13, at(seconds(70))))).has_value());
    state = co_await sessions().find_refresh(hash(10), at(seconds(71)));
    EXPECT_TRUE(state && state->successor_spent);
    // The expiry slides but never past max_expires_at (72 h after creation).
    EXPECT_TRUE((co_await sessions().rotate(rotation(13, 14, at(hours(20))))).has_value());
    EXPECT_TRUE((co_await sessions().rotate(rotation(14, 15, at(hours(40))))).has_value());
    const auto late = co_await sessions().rotate(rotation(15, 16, at(hours(60))));
    EXPECT_TRUE(late && late->expires_at == at() + hours(72));
  });
}

TEST_P(UserRepositoryContract, NoRotationForAnEndedSession) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(user(1));
    co_await sessions().create(session(1, 1));
    co_await sessions().create(session(2, 1));
    EXPECT_TRUE(co_await sessions().revoke(id(101), std::nullopt, at(seconds(1)), "logout"));
    EXPECT_FALSE((co_await sessions().rotate(rotation(10, 11))).has_value());
    const auto state = co_await sessions().find_refresh(hash(10), at(seconds(61)));
    EXPECT_TRUE(state && !state->session_active && !state->spent_at);
    // Expired (expires_at is 24 h after creation).
    EXPECT_FALSE((co_await sessions().rotate(rotation(20, 21, at(hours(25))))).has_value());
  });
}

TEST_P(UserRepositoryContract, ConcurrentRotationsOfOneTokenHaveOneWinner) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(user(1));
    for (int round = 0; round < 5; ++round) {
      co_await sessions().create(session(round, 1));
      constexpr int kRacers = 8;
      int winners = 0;
      int finished = 0;
      auto executor = co_await asio::this_coro::executor;
      for (int i = 0; i < kRacers; ++i) {
        asio::co_spawn(
            executor,
            [&, i]() -> asio::awaitable<void> {
              const auto r =
                  co_await sessions().rotate(rotation(round * 10, 1000 + round * 10 + i));
              if (r) ++winners;
              ++finished;
            },
            asio::detached);
      }
      asio::steady_timer wait(executor);
      for (int spin = 0; spin < 1000 && finished < kRacers; ++spin) {
        wait.expires_after(milliseconds(5));
        co_await wait.async_wait(asio::use_awaitable);
      }
      EXPECT_EQ(finished, kRacers);
      EXPECT_EQ(winners, 1) << "round " << round;
    }
  });
}

TEST_P(UserRepositoryContract, APasswordChangeRevokesTheOtherSessionsInTheSameChange) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(user(1));
    co_await repo().create(user(2));
    for (int n = 1; n <= 3; ++n) co_await sessions().create(session(n, 1));
    co_await sessions().create(session(4, 2));
    UserUpdate change;
    change.password_hash = "$argon2id$new";
    change.updated_at = at(seconds(5));
    change.revoke_sessions_except = id(102);
    EXPECT_TRUE((co_await repo().update(id(1), change)).has_value());
    auto list = co_await sessions().list_active(id(1), at(seconds(6)));
    EXPECT_TRUE(list.size() == 1 && list[0].id == id(102));
    EXPECT_EQ((co_await sessions().list_active(id(2), at(seconds(6)))).size(), 1u);
    // A change that fails (the email is taken) revokes nothing.
    co_await sessions().create(session(5, 1, at(seconds(10))));
    UserUpdate taken;
    taken.email = "u2@example.io";
    taken.password_hash = "$argon2id$newer";
    taken.updated_at = at(seconds(11));
    taken.revoke_sessions_except = id(102);
    bool threw = false;
    try {
      co_await repo().update(id(1), taken);
    } catch (const EmailTaken&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    list = co_await sessions().list_active(id(1), at(seconds(12)));
    EXPECT_EQ(list.size(), 2u);
  });
}

TEST_P(UserRepositoryContract, RevokeListTouchAndPurge) {
  run([&]() -> asio::awaitable<void> {
    co_await repo().create(user(1));
    co_await repo().create(user(2));
    co_await sessions().create(session(1, 1, at()));
    co_await sessions().create(session(2, 1, at(seconds(10))));
    co_await sessions().create(session(3, 1, at(seconds(20))));
    co_await sessions().create(session(4, 2, at()));
    // Newest first, only the user's own.
    auto list = co_await sessions().list_active(id(1), at(seconds(30)));
    EXPECT_EQ(list.size(), 3u);
    if (list.size() == 3) {
      EXPECT_EQ(list[0].id, id(103));
      EXPECT_EQ(list[2].id, id(101));
      EXPECT_EQ(list[0].user_agent, "agent 3");
      EXPECT_EQ(list[0].client_ip, "192.0.2.3");
      EXPECT_EQ(list[0].last_used_at, at(seconds(20)));
    }
    // Someone else's session is not revoked through my name.
    EXPECT_FALSE(
        co_await sessions().revoke(id(104), std::string_view(id(1)), at(seconds(30)), "x"));
    EXPECT_FALSE(co_await sessions().revoke("not-a-uuid", std::string_view(id(1)), at(), "x"));
    // All but the current one.
    EXPECT_EQ(co_await sessions().revoke_all(id(1), at(seconds(30)), "password_changed",
                                             std::string_view(id(102))),
              2);
    list = co_await sessions().list_active(id(1), at(seconds(31)));
    EXPECT_TRUE(list.size() == 1 && list[0].id == id(102));
    EXPECT_EQ(co_await sessions().revoke_all(id(1), at(seconds(32)), "logout_all"), 1);
    EXPECT_EQ(co_await sessions().count_active(at(seconds(33))), 1);

    // Last use moves forward, never back.
    const SessionUse uses[] = {{id(104), at(seconds(90))}, {"not-a-uuid", at()}};
    co_await sessions().touch(uses);
    const SessionUse older[] = {{id(104), at(seconds(50))}};
    co_await sessions().touch(older);
    list = co_await sessions().list_active(id(2), at(seconds(100)));
    EXPECT_TRUE(list.size() == 1 && list[0].last_used_at == at(seconds(90)));

    // The purge takes ended sessions with their tokens, in bounded batches.
    EXPECT_EQ(co_await sessions().purge(at(seconds(40)), at(-hours(100)), 2), 2);
    EXPECT_EQ(co_await sessions().purge(at(seconds(40)), at(-hours(100)), 2), 1);
    EXPECT_EQ(co_await sessions().purge(at(seconds(40)), at(-hours(100)), 2), 0);
    EXPECT_FALSE((co_await sessions().find_refresh(hash(10), at())).has_value());
    EXPECT_TRUE((co_await sessions().find_refresh(hash(40), at())).has_value());
    // Spent tokens older than the cut go too; the live one stays.
    EXPECT_TRUE((co_await sessions().rotate(rotation(40, 41))).has_value());
    EXPECT_EQ(co_await sessions().purge(at(seconds(61)), at(seconds(61)), 10), 1);
    EXPECT_FALSE((co_await sessions().find_refresh(hash(40), at())).has_value());
    EXPECT_TRUE((co_await sessions().find_refresh(hash(41), at())).has_value());
    // Expired sessions go too.
    EXPECT_EQ(co_await sessions().purge(at(hours(200)), at(-hours(100)), 10), 1);
    EXPECT_EQ(co_await sessions().count_active(at()), 0);
  });
}

#pragma GCC diagnostic pop

}  // namespace user_service::repositories::contract
