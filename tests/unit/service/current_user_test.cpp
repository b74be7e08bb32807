// The current-user dependency and the authentication rules under it, without HTTP or a
// database: CurrentUser::protect / protect_token (service/api/dependencies.hpp) over a real
// AuthService, SessionService, JwtCodec and PasswordHasher, with in-memory stand-ins for the
// repositories (the real backends meet the repository contracts in tests/integration/service).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "kit/async/worker_pool.hpp"
#include "kit/errors/app_error.hpp"
#include "kit/http/response.hpp"
#include "kit/security/jwt.hpp"
#include "kit/security/password_hasher.hpp"
#include "service/api/dependencies.hpp"
#include "service/services/auth_service.hpp"
#include "tests/support/run_coroutine.hpp"

namespace user_service {
namespace {

namespace asio = boost::asio;
namespace http = kit::http;
using domain::Role;
using domain::User;
using std::chrono::system_clock;

const std::string kAlice = "0190a0a0-0000-7000-8000-00000000000b";
const std::string kAdmin = "0190a0a0-0000-7000-8000-00000000000a";
const std::string kAliceSession = "0190a0a0-0000-7000-8000-0000000000cb";
const std::string kAdminSession = "0190a0a0-0000-7000-8000-0000000000ca";

kit::security::JwtConfig jwt_config(std::string secret = "unit-test-secret-that-is-long-enough-01",
                                    std::string issuer = "user-service",
                                    std::string audience = "user-service-clients") {
  return {
      .secret = std::move(secret), .issuer = std::move(issuer), .audience = std::move(audience)};
}

// Users by id and active sessions (session id → user id), with the calls the rules make counted.
class MemoryUsers final : public repositories::UserRepository {
 public:
  std::map<std::string, User> users;
  std::map<std::string, std::string> sessions;
  int lookups = 0;
  std::optional<repositories::UserUpdate> last_update;

  asio::awaitable<User> create(const repositories::NewUser&, kit::async::Deadline) override {
    throw std::logic_error("not used by authentication");
  }
  asio::awaitable<std::optional<User>> find_by_id(std::string_view id,
                                                  kit::async::Deadline) override {
    ++lookups;
    const auto it = users.find(std::string(id));
    co_return it == users.end() ? std::nullopt : std::optional<User>(it->second);
  }
  asio::awaitable<repositories::CallerRead> find_caller(const domain::SessionKey& key,
                                                        domain::Timestamp,
                                                        std::optional<std::string_view> other,
                                                        kit::async::Deadline) override {
    ++lookups;
    repositories::CallerRead read;
    const auto session = sessions.find(key.session_id);
    if (session == sessions.end() || session->second != key.user_id) co_return read;
    if (const auto it = users.find(key.user_id); it != users.end()) read.caller = it->second;
    if (!read.caller) co_return read;
    if (other) {
      if (const auto it = users.find(std::string(*other)); it != users.end())
        read.other = it->second;
    }
    co_return read;
  }
  asio::awaitable<std::optional<User>> find_by_email(std::string_view email,
                                                     kit::async::Deadline) override {
    ++lookups;
    for (const auto& [id, user] : users) {
      if (user.email == email) co_return user;
    }
    co_return std::nullopt;
  }
  asio::awaitable<std::optional<User>> update(std::string_view id,
                                              const repositories::UserUpdate& change,
                                              kit::async::Deadline) override {
    last_update = change;
    const auto it = users.find(std::string(id));
    if (it == users.end()) co_return std::nullopt;
    if (change.password_hash) it->second.password_hash = *change.password_hash;
    co_return it->second;
  }
  asio::awaitable<bool> remove(std::string_view id, kit::async::Deadline,
                               std::vector<kit::outbox::Message>) override {
    co_return users.erase(std::string(id)) > 0;
  }
  asio::awaitable<repositories::Page> list(std::size_t, std::optional<repositories::PageCursor>,
                                           kit::async::Deadline) override {
    throw std::logic_error("not used by authentication");
  }
};

// Sessions as login creates them, in the users stand-in's map; the rest is not used here.
class MemorySessions final : public repositories::SessionRepository {
 public:
  explicit MemorySessions(MemoryUsers& users) : users_(users) {}
  asio::awaitable<void> create(const repositories::NewSession& s, kit::async::Deadline) override {
    users_.sessions[s.id] = s.user_id;
    co_return;
  }
  asio::awaitable<std::optional<repositories::RotatedSession>> rotate(
      const repositories::Rotation&, kit::async::Deadline) override {
    throw std::logic_error("not used here");
  }
  asio::awaitable<std::optional<repositories::RefreshTokenState>> find_refresh(
      std::string_view, domain::Timestamp, kit::async::Deadline) override {
    throw std::logic_error("not used here");
  }
  asio::awaitable<bool> revoke(std::string_view session_id, std::optional<std::string_view>,
                               domain::Timestamp, std::string_view, kit::async::Deadline) override {
    co_return users_.sessions.erase(std::string(session_id)) > 0;
  }
  asio::awaitable<std::int64_t> revoke_all(std::string_view, domain::Timestamp, std::string_view,
                                           std::optional<std::string_view>,
                                           kit::async::Deadline) override {
    throw std::logic_error("not used here");
  }
  asio::awaitable<std::vector<domain::Session>> list_active(std::string_view, domain::Timestamp,
                                                            kit::async::Deadline) override {
    throw std::logic_error("not used here");
  }
  asio::awaitable<void> touch(std::span<const repositories::SessionUse>) override { co_return; }
  asio::awaitable<std::int64_t> purge(domain::Timestamp, domain::Timestamp, std::size_t) override {
    co_return 0;
  }
  asio::awaitable<std::int64_t> count_active(domain::Timestamp) override {
    co_return static_cast<std::int64_t>(users_.sessions.size());
  }

 private:
  MemoryUsers& users_;
};

class Authentication : public testing::Test {
 protected:
  Authentication() {
    add(kAlice, "alice@example.com", Role::user);
    add(kAdmin, "admin@example.com", Role::admin);
    repo_.sessions[kAliceSession] = kAlice;
    repo_.sessions[kAdminSession] = kAdmin;
  }

  void add(const std::string& id, const std::string& email, Role role,
           const std::string& password = "correct horse battery") {
    User u;
    u.id = id;
    u.email = email;
    u.name = "Name of " + email;
    u.role = role;
    u.password_hash = run(hasher_.hash(password));
    repo_.users[id] = u;
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    return test_support::run_coroutine(io_, std::move(work));
  }

  // A token of the subject's session (a made-up one for other subjects).
  std::string token_for(const std::string& subject) const {
    const std::string session = subject == kAlice   ? kAliceSession
                                : subject == kAdmin ? kAdminSession
                                                    : "0190a0a0-0000-7000-8000-0000000000ee";
    return jwt_.issue(subject, now_, session).token;
  }

  // A request through `handler` with this Authorization header (none when nullopt).
  http::Response call(const http::Handler& handler, std::optional<std::string> authorization) {
    http::Request req{http::Verb::get, "/api/v1/users/me", 11};
    if (authorization) req.set(http::Field::authorization, *authorization);
    http::RequestContext ctx;
    return run(handler(req, ctx));
  }

  // The 401 that `handler` throws for this header, with its WWW-Authenticate value.
  std::string rejection(const http::Handler& handler, std::optional<std::string> authorization) {
    try {
      call(handler, std::move(authorization));
    } catch (const kit::errors::AppError& e) {
      EXPECT_EQ(e.status(), 401u);
      for (const auto& [name, value] : e.headers()) {
        if (name == "WWW-Authenticate") return value;
      }
      return "no WWW-Authenticate";
    }
    ADD_FAILURE() << "no 401";
    return {};
  }

  // A handler that records who it ran for.
  api::UserHandler recording() {
    return [this](http::Request& req, http::RequestContext&,
                  const services::Caller& current) -> asio::awaitable<http::Response> {
      seen_ = current.user;
      seen_session_ = current.session_id;
      co_return http::empty_response(http::Status::no_content, req.version());
    };
  }

  asio::io_context io_;
  kit::async::WorkerPool pool_{1, 8};
  kit::security::PasswordHasher hasher_{pool_, {.memory_kib = 8, .iterations = 1}};
  MemoryUsers repo_;
  MemorySessions sessions_repo_{repo_};
  system_clock::time_point now_ = system_clock::now();
  kit::security::JwtCodec jwt_{jwt_config()};
  services::SessionService sessions_{sessions_repo_, jwt_, {}, [this] { return now_; }};
  services::AuthService auth_{repo_, hasher_, jwt_, sessions_, [this] { return now_; }};
  api::CurrentUser current_{auth_};
  std::optional<User> seen_;
  std::string seen_session_;
};

TEST_F(Authentication, AValidTokenRunsTheHandlerWithThatUser) {
  const http::Response res = call(current_.protect(recording()), "Bearer " + token_for(kAdmin));
  EXPECT_EQ(res.result(), http::Status::no_content);
  ASSERT_TRUE(seen_.has_value());
  EXPECT_EQ(seen_->id, kAdmin);
  EXPECT_EQ(seen_->role, Role::admin);
  EXPECT_EQ(seen_session_, kAdminSession);
  EXPECT_EQ(repo_.lookups, 1);
}

TEST_F(Authentication, ATokenOfARevokedSessionIsRefusedAsSessionEnded) {
  const std::string token = token_for(kAlice);
  repo_.sessions.erase(kAliceSession);
  EXPECT_EQ(rejection(current_.protect(recording()), "Bearer " + token),
            R"(Bearer error="invalid_token")");
  std::string reason;
  EXPECT_FALSE(run(auth_.authenticate(token, reason)).has_value());
  EXPECT_EQ(reason, services::AuthService::kSessionEnded);
  EXPECT_FALSE(seen_.has_value());
}

TEST_F(Authentication, ATokenWithoutASessionIsRefusedWithoutALookup) {
  const std::string token = jwt_.issue(kAlice, now_).token;  // no sid
  EXPECT_EQ(rejection(current_.protect(recording()), "Bearer " + token),
            R"(Bearer error="invalid_token")");
  std::string reason;
  EXPECT_FALSE(auth_.verify_token(token, reason).has_value());
  EXPECT_EQ(reason, services::AuthService::kNoSession);
  EXPECT_EQ(repo_.lookups, 0);
}

TEST_F(Authentication, TheSchemeIsCaseInsensitiveAndSpacesAroundTheTokenAreIgnored) {
  call(current_.protect(recording()), "bEaReR   " + token_for(kAlice) + " \t");
  ASSERT_TRUE(seen_.has_value());
  EXPECT_EQ(seen_->id, kAlice);
}

TEST_F(Authentication, NoCredentialIsNotAuthenticatedWithoutInvalidToken) {
  const auto protect = current_.protect(recording());
  EXPECT_EQ(rejection(protect, std::nullopt), "Bearer");
  EXPECT_EQ(rejection(protect, "Basic YWxpY2U6cHc="), "Bearer");
  EXPECT_EQ(rejection(protect, "Bearerx " + token_for(kAlice)), "Bearer");
  EXPECT_FALSE(seen_.has_value());
  EXPECT_EQ(repo_.lookups, 0);
}

TEST_F(Authentication, BadTokensAre401InvalidTokenWithoutADatabaseLookup) {
  const auto protect = current_.protect(recording());
  const std::string good = token_for(kAlice);
  const kit::security::JwtCodec other_secret(jwt_config("another-secret-that-is-long-enough-012"));
  const kit::security::JwtCodec other_issuer(
      jwt_config("unit-test-secret-that-is-long-enough-01", "someone-else"));
  const kit::security::JwtCodec other_audience(
      jwt_config("unit-test-secret-that-is-long-enough-01", "user-service", "another-audience"));
  const std::string alg_none =
      "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + good.substr(good.find('.') + 1, std::string::npos);
  for (const std::string& token :
       {std::string(), std::string("not-a-jwt"), other_secret.issue(kAlice, now_).token,
        other_issuer.issue(kAlice, now_).token, other_audience.issue(kAlice, now_).token,
        alg_none.substr(0, alg_none.rfind('.') + 1), good.substr(0, good.size() - 2) + "xx"}) {
    EXPECT_EQ(rejection(protect, "Bearer " + token), R"(Bearer error="invalid_token")") << token;
  }
  EXPECT_FALSE(seen_.has_value());
  EXPECT_EQ(repo_.lookups, 0);
}

TEST_F(Authentication, VerifyTokenSaysWhyATokenIsRefused) {
  std::string reason;
  const auto key = auth_.verify_token(token_for(kAlice), reason);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->user_id, kAlice);
  EXPECT_EQ(key->session_id, kAliceSession);
  const kit::security::JwtCodec other_secret(jwt_config("another-secret-that-is-long-enough-012"));
  EXPECT_FALSE(auth_.verify_token(other_secret.issue(kAlice, now_).token, reason));
  EXPECT_EQ(reason, "bad_signature");
  const kit::security::JwtCodec other_audience(
      jwt_config("unit-test-secret-that-is-long-enough-01", "user-service", "another-audience"));
  EXPECT_FALSE(auth_.verify_token(other_audience.issue(kAlice, now_).token, reason));
  EXPECT_EQ(reason, "bad_audience");
  const std::string token = token_for(kAlice);
  now_ += std::chrono::hours(2);  // the lifetime is one hour, the leeway 30 s
  EXPECT_FALSE(auth_.verify_token(token, reason));
  EXPECT_EQ(reason, "expired");
}

TEST_F(Authentication, TheTokenOfADeletedUserIsRefusedAsSessionEnded) {
  const std::string token = token_for(kAlice);
  repo_.users.erase(kAlice);
  EXPECT_EQ(rejection(current_.protect(recording()), "Bearer " + token),
            R"(Bearer error="invalid_token")");
  std::string reason;
  EXPECT_FALSE(run(auth_.authenticate(token, reason)).has_value());
  EXPECT_EQ(reason, services::AuthService::kSessionEnded);
}

TEST_F(Authentication, ProtectTokenPassesTheSubjectWithoutALookupAndAcceptCallerChecksIt) {
  std::optional<std::string> subject;
  const http::Handler handler =
      current_.protect_token([&](http::Request& req, http::RequestContext& ctx,
                                 const domain::SessionKey& s) -> asio::awaitable<http::Response> {
        subject = s.user_id;
        const std::optional<User> caller = repo_.users.contains(s.user_id)
                                               ? std::optional<User>(repo_.users[s.user_id])
                                               : std::nullopt;
        const User& user = api::accept_caller(ctx, caller);
        EXPECT_EQ(user.id, s.user_id);
        co_return http::empty_response(http::Status::no_content, req.version());
      });
  EXPECT_EQ(call(handler, "Bearer " + token_for(kAlice)).result(), http::Status::no_content);
  EXPECT_EQ(subject, kAlice);
  EXPECT_EQ(repo_.lookups, 0);

  const std::string gone = "0190a0a0-0000-7000-8000-0000000000ff";
  EXPECT_EQ(rejection(handler, "Bearer " + token_for(gone)), R"(Bearer error="invalid_token")");
  EXPECT_EQ(subject, gone);  // the token was good: the 401 came from accept_caller
}

TEST_F(Authentication, LoginStartsASessionAndIssuesItsTokens) {
  const services::LoginResult result =
      run(auth_.login("  Alice@Example.com ", "correct horse battery", {"agent/1", "192.0.2.1"}));
  EXPECT_EQ(result.user_id, kAlice);
  EXPECT_EQ(result.rehash, services::Rehash::not_needed);
  std::string reason;
  const auto key = auth_.verify_token(result.session.access.token, reason);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->user_id, kAlice);
  EXPECT_EQ(key->session_id, result.session.session_id);
  EXPECT_EQ(repo_.sessions.at(result.session.session_id), kAlice);
  EXPECT_EQ(result.session.access.expires_in, std::chrono::hours(1));
  EXPECT_EQ(result.session.refresh_token.size(), 43u);
  EXPECT_EQ(result.session.refresh_expires_in, std::chrono::hours(24 * 30));
  EXPECT_TRUE(run(auth_.authenticate(result.session.access.token, reason)).has_value());
}

TEST_F(Authentication, AWrongPasswordAndAnUnknownEmailAreTheSameFailure) {
  EXPECT_THROW(run(auth_.login("alice@example.com", "wrong password", {})),
               kit::errors::InvalidCredentials);
  EXPECT_THROW(run(auth_.login("nobody@example.com", "correct horse battery", {})),
               kit::errors::InvalidCredentials);
  EXPECT_THROW(run(auth_.login("not an email\n", "correct horse battery", {})),
               kit::errors::InvalidCredentials);
  EXPECT_FALSE(repo_.last_update.has_value());
}

TEST_F(Authentication, AHashOfAnOlderCostIsReplacedAtLogin) {
  kit::security::PasswordHasher older(pool_, {.memory_kib = 16, .iterations = 1});
  repo_.users[kAlice].password_hash = run(older.hash("correct horse battery"));
  const std::string old_hash = repo_.users[kAlice].password_hash;
  const services::LoginResult result =
      run(auth_.login("alice@example.com", "correct horse battery", {}));
  EXPECT_EQ(result.rehash, services::Rehash::done);
  ASSERT_TRUE(repo_.last_update.has_value());
  ASSERT_TRUE(repo_.last_update->password_hash.has_value());
  EXPECT_NE(*repo_.last_update->password_hash, old_hash);
  EXPECT_TRUE(run(hasher_.verify(repo_.users[kAlice].password_hash, "correct horse battery")).ok);
  EXPECT_FALSE(
      run(hasher_.verify(repo_.users[kAlice].password_hash, "correct horse battery")).needs_rehash);
}

}  // namespace
}  // namespace user_service
