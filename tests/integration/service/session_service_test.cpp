// SessionService's rules over time (docs/sessions.md), on a real SQLite database (the sessions
// repository meets its contract on both backends elsewhere) with a clock the test moves: the
// grace for a lost answer and when it ends, the sliding and the absolute expiry, and the batched
// record of last uses.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "kit/db/sqlite/database.hpp"
#include "kit/db/sqlite/migrations.hpp"
#include "kit/security/jwt.hpp"
#include "service/repositories/embedded_migrations.hpp"
#include "service/repositories/sqlite_session_repository.hpp"
#include "service/repositories/sqlite_user_repository.hpp"
#include "service/services/session_service.hpp"
#include "tests/support/run_coroutine.hpp"

namespace user_service::services {
namespace {

namespace sqlite = kit::db::sqlite;
using namespace std::chrono;

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

class SessionRules : public testing::Test {
 protected:
  // In SetUp, not the constructor: policy() is virtual.
  void SetUp() override {
    db_ = run([]() -> boost::asio::awaitable<std::unique_ptr<sqlite::Database>> {
      sqlite::Options options;
      options.path = ":memory:";
      auto db = co_await sqlite::Database::open(std::move(options));
      co_await sqlite::migrate(*db, embedded_migrations());
      co_return db;
    }());
    users_ = std::make_unique<repositories::SqliteUserRepository>(*db_);
    repo_ = std::make_unique<repositories::SqliteSessionRepository>(*db_);
    service_ = std::make_unique<SessionService>(*repo_, jwt_, policy(), [this] { return now_; });
    repositories::NewUser user{
        kUser,         "rules@example.io", "Rules",
        "$argon2id$x", domain::Role::user, time_point_cast<microseconds>(now_)};
    run(users_->create(user));
  }
  void TearDown() override {
    service_.reset();
    if (db_) run(db_->close());
  }

  virtual SessionPolicy policy() {
    return SessionPolicy{
        .refresh_ttl = hours(24) * 30, .max_age = hours(24) * 90, .reuse_grace = seconds(10)};
  }

  template <class T>
  T run(boost::asio::awaitable<T> work) {
    return test_support::run_coroutine(io_, std::move(work));
  }

  IssuedSession sign_in() { return run(service_->start(kUser, {"agent", "192.0.2.1"})); }
  RefreshOutcome refresh(const std::string& token) { return run(service_->refresh(token)); }
  bool active(const std::string& session_id) {
    for (const auto& s : run(service_->list(kUser))) {
      if (s.id == session_id) return true;
    }
    return false;
  }

  static constexpr const char* kUser = "00000000-0000-4000-8000-000000000001";
  boost::asio::io_context io_;
  system_clock::time_point now_ = sys_days{year{2026} / 12 / 7} + hours(3);
  kit::security::JwtCodec jwt_{kit::security::JwtConfig{
      .secret = "session-rules-secret-that-is-long-enough", .issuer = "i", .audience = "a"}};
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<repositories::SqliteUserRepository> users_;
  std::unique_ptr<repositories::SqliteSessionRepository> repo_;
  std::unique_ptr<SessionService> service_;
};

TEST_F(SessionRules, ARetryInsideTheGraceGetsTheSameSuccessorAndLaterItIsTheft) {
  const IssuedSession first = sign_in();
  const RefreshOutcome rotated = refresh(first.refresh_token);
  ASSERT_EQ(rotated.result, RefreshResult::rotated);
  now_ += seconds(10);  // the last second of the grace
  const RefreshOutcome retry = refresh(first.refresh_token);
  ASSERT_EQ(retry.result, RefreshResult::grace_retry);
  EXPECT_EQ(retry.issued->refresh_token, rotated.issued->refresh_token);
  EXPECT_EQ(retry.issued->session_id, first.session_id);
  now_ += seconds(1);  // past it: whoever holds the old token is not the client that lost it
  EXPECT_EQ(refresh(first.refresh_token).result, RefreshResult::reuse_detected);
  EXPECT_FALSE(active(first.session_id));
  EXPECT_EQ(refresh(rotated.issued->refresh_token).result, RefreshResult::invalid);
}

TEST_F(SessionRules, TheSlidingExpiryMovesWithEachRefreshUpToTheAbsoluteOne) {
  const IssuedSession first = sign_in();
  EXPECT_EQ(first.refresh_expires_in, hours(24) * 30);
  std::string token = first.refresh_token;
  // Every 29 days: alive until day 90, whatever the refreshes.
  for (int day = 29; day < 90; day += 29) {
    now_ += hours(24) * 29;
    const RefreshOutcome r = refresh(token);
    ASSERT_EQ(r.result, RefreshResult::rotated) << "day " << day;
    EXPECT_EQ(r.issued->refresh_expires_in,
              std::min<seconds>(hours(24) * 30, hours(24) * 90 - hours(24) * day))
        << "day " << day;
    token = r.issued->refresh_token;
  }
  now_ += hours(24) * 4;  // day 91
  EXPECT_EQ(refresh(token).result, RefreshResult::invalid);
  EXPECT_FALSE(active(first.session_id));
}

TEST_F(SessionRules, AnUnusedRefreshTokenExpiresAfterItsLifetime) {
  const IssuedSession first = sign_in();
  now_ += hours(24) * 30 + seconds(1);
  EXPECT_EQ(refresh(first.refresh_token).result, RefreshResult::invalid);
}

TEST_F(SessionRules, LastUsesAreWrittenInOneBatchPerFlush) {
  const IssuedSession a = sign_in();
  const IssuedSession b = sign_in();
  now_ += seconds(30);
  for (int i = 0; i < 50; ++i) {
    service_->record_use(a.session_id);
    service_->record_use(b.session_id);
  }
  EXPECT_EQ(run(service_->flush_activity()), 2u);
  EXPECT_EQ(run(service_->flush_activity()), 0u);  // nothing new
  for (const auto& s : run(service_->list(kUser))) {
    EXPECT_EQ(s.last_used_at, time_point_cast<microseconds>(now_)) << s.id;
    EXPECT_EQ(s.created_at, time_point_cast<microseconds>(now_ - seconds(30))) << s.id;
  }
}

class SessionRulesWithoutGrace : public SessionRules {
 protected:
  SessionPolicy policy() override {
    return SessionPolicy{
        .refresh_ttl = hours(24) * 30, .max_age = hours(24) * 90, .reuse_grace = seconds(0)};
  }
};

TEST_F(SessionRulesWithoutGrace, AnyReuseIsTheft) {
  const IssuedSession first = sign_in();
  ASSERT_EQ(refresh(first.refresh_token).result, RefreshResult::rotated);
  EXPECT_EQ(refresh(first.refresh_token).result, RefreshResult::reuse_detected);
  EXPECT_FALSE(active(first.session_id));
}

TEST_F(SessionRules, RevokeAllKeepsTheOneAskedFor) {
  const IssuedSession a = sign_in();
  const IssuedSession b = sign_in();
  const IssuedSession c = sign_in();
  EXPECT_EQ(run(service_->revoke_all(kUser, revoke_reason::logout_all, b.session_id)), 2);
  EXPECT_FALSE(active(a.session_id));
  EXPECT_TRUE(active(b.session_id));
  EXPECT_FALSE(active(c.session_id));
  EXPECT_FALSE(run(service_->revoke("00000000-0000-4000-8000-000000000009", b.session_id,
                                    revoke_reason::user_request)));
  EXPECT_TRUE(run(service_->revoke(kUser, b.session_id, revoke_reason::user_request)));
}

#pragma GCC diagnostic pop

}  // namespace
}  // namespace user_service::services
