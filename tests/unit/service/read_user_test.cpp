// UserService::read_user (GET /users/{id}): the visibility rule, and that it costs ONE lookup
// of the repository (the caller and the target together), never a second one. The repository
// here is an in-memory stand-in that counts calls; the real backends meet the same
// find_caller contract in tests/integration/service.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "kit/async/worker_pool.hpp"
#include "kit/security/password_hasher.hpp"
#include "service/services/user_service.hpp"
#include "tests/support/run_coroutine.hpp"

namespace user_service::services {
namespace {

namespace asio = boost::asio;
using domain::Role;
using domain::User;

const std::string kAdmin = "0190a0a0-0000-7000-8000-00000000000a";
const std::string kAlice = "0190a0a0-0000-7000-8000-00000000000b";
const std::string kBob = "0190a0a0-0000-7000-8000-00000000000c";
const std::string kUnknown = "0190a0a0-0000-7000-8000-0000000000ff";

// Only the lookups read_user may use are implemented; anything else fails the test.
class CountingRepository final : public repositories::UserRepository {
 public:
  void add(const std::string& id, Role role) {
    User u;
    u.id = id;
    u.email = id.substr(id.size() - 2) + "@example.com";
    u.name = "User " + id.substr(id.size() - 2);
    u.role = role;
    users_[id] = u;
  }

  std::vector<std::vector<std::string>> lookups;  // the ids of every find_caller call
  int other_calls = 0;

  // Every session here is active: the session check itself is the backends' (contract tests).
  asio::awaitable<repositories::CallerRead> find_caller(const domain::SessionKey& key,
                                                        domain::Timestamp,
                                                        std::optional<std::string_view> other,
                                                        kit::async::Deadline) override {
    lookups.emplace_back();
    lookups.back().push_back(key.user_id);
    if (other) lookups.back().emplace_back(*other);
    repositories::CallerRead read;
    if (const auto it = users_.find(key.user_id); it != users_.end()) read.caller = it->second;
    if (read.caller && other) {
      if (const auto it = users_.find(std::string(*other)); it != users_.end()) {
        read.other = it->second;
      }
    }
    co_return read;
  }
  asio::awaitable<std::optional<User>> find_by_id(std::string_view, kit::async::Deadline) override {
    ++other_calls;
    co_return std::nullopt;
  }
  asio::awaitable<User> create(const repositories::NewUser&, kit::async::Deadline) override {
    throw unexpected();
  }
  asio::awaitable<std::optional<User>> find_by_email(std::string_view,
                                                     kit::async::Deadline) override {
    throw unexpected();
  }
  asio::awaitable<std::optional<User>> update(std::string_view, const repositories::UserUpdate&,
                                              kit::async::Deadline) override {
    throw unexpected();
  }
  asio::awaitable<bool> remove(std::string_view, kit::async::Deadline,
                               std::vector<kit::outbox::Message>) override {
    throw unexpected();
  }
  asio::awaitable<repositories::Page> list(std::size_t, std::optional<repositories::PageCursor>,
                                           kit::async::Deadline) override {
    throw unexpected();
  }

 private:
  std::logic_error unexpected() {
    ++other_calls;
    return std::logic_error("read_user must only use find_caller");
  }
  std::map<std::string, User> users_;
};

class ReadUser : public testing::Test {
 protected:
  ReadUser() {
    repo_.add(kAdmin, Role::admin);
    repo_.add(kAlice, Role::user);
    repo_.add(kBob, Role::user);
  }

  UserRead read(const std::string& caller, const std::string& requested) {
    const domain::SessionKey key{caller, "0190a0a0-0000-7000-8000-0000000000cc"};
    return test_support::run_coroutine(io_, service_.read_user(key, requested));
  }

  // Exactly one repository call, find_caller with these ids (the caller first).
  void expect_one_lookup(const std::vector<std::string>& ids) {
    EXPECT_EQ(repo_.other_calls, 0);
    ASSERT_EQ(repo_.lookups.size(), 1u);
    EXPECT_EQ(repo_.lookups[0], ids);
  }

  asio::io_context io_;
  kit::async::WorkerPool pool_{1, 4};
  kit::security::PasswordHasher hasher_{pool_, {.memory_kib = 8, .iterations = 1}};
  CountingRepository repo_;
  UserService service_{repo_, hasher_};
};

TEST_F(ReadUser, TheUserItselfGetsItselfFromOneLookupOfOneId) {
  const UserRead r = read(kAlice, kAlice);
  expect_one_lookup({kAlice});
  ASSERT_TRUE(r.caller.has_value());
  EXPECT_TRUE(r.self);
  ASSERT_NE(r.visible(), nullptr);
  EXPECT_EQ(r.visible(), &*r.caller);
}

TEST_F(ReadUser, AnUppercaseIdOfTheUserItselfIsItselfToo) {
  std::string upper = kAlice;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const UserRead r = read(kAlice, upper);
  expect_one_lookup({kAlice});
  ASSERT_NE(r.visible(), nullptr);
  EXPECT_EQ(r.visible()->id, kAlice);
}

TEST_F(ReadUser, AnAdminGetsAnotherUserFromOneLookupOfBothIds) {
  const UserRead r = read(kAdmin, kBob);
  expect_one_lookup({kAdmin, kBob});
  ASSERT_TRUE(r.caller.has_value());
  EXPECT_EQ(r.caller->id, kAdmin);
  EXPECT_FALSE(r.self);
  ASSERT_NE(r.visible(), nullptr);
  EXPECT_EQ(r.visible()->id, kBob);
  EXPECT_EQ(r.visible()->name, "User 0c");
}

TEST_F(ReadUser, AnAdminAskingForAnUnknownIdSeesNothing) {
  const UserRead r = read(kAdmin, kUnknown);
  expect_one_lookup({kAdmin, kUnknown});
  EXPECT_TRUE(r.caller.has_value());
  EXPECT_EQ(r.visible(), nullptr);
}

TEST_F(ReadUser, AUserAskingForAnotherExistingUserSeesNothing) {
  const UserRead r = read(kAlice, kBob);
  expect_one_lookup({kAlice, kBob});
  EXPECT_TRUE(r.caller.has_value());
  EXPECT_FALSE(r.target.has_value());  // loaded with the caller, dropped by the rule
  EXPECT_EQ(r.visible(), nullptr);
}

TEST_F(ReadUser, ANonUuidIdNeverReachesTheRepository) {
  for (const std::string raw : {"not-a-uuid", "", "1' OR '1'='1", "me"}) {
    repo_.lookups.clear();
    const UserRead r = read(kAdmin, raw);
    expect_one_lookup({kAdmin});  // only the caller, whose existence is always checked
    EXPECT_TRUE(r.caller.has_value()) << raw;
    EXPECT_EQ(r.visible(), nullptr) << raw;
  }
}

TEST_F(ReadUser, ACallerThatNoLongerExistsIsReportedWhateverItAskedFor) {
  for (const std::string& requested : {kUnknown, kBob, std::string("not-a-uuid")}) {
    const UserRead r = read(kUnknown, requested);
    EXPECT_FALSE(r.caller.has_value()) << requested;
    EXPECT_FALSE(r.target.has_value()) << requested;
  }
  EXPECT_EQ(repo_.lookups.size(), 3u);
  EXPECT_EQ(repo_.other_calls, 0);
}

}  // namespace
}  // namespace user_service::services
