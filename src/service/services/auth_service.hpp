#pragma once
// Authentication rules without HTTP (docs/http-api.md "Authentication"): password login that costs
// the same for an unknown email as for a wrong password, re-hashing outdated hashes on login, and
// turning a bearer token into the user it names.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/security/jwt.hpp"
#include "kit/security/password_hasher.hpp"
#include "service/domain/user.hpp"
#include "service/services/session_service.hpp"
#include "service/services/user_service.hpp"

namespace user_service::services {

enum class Rehash { not_needed, done, failed };

struct LoginResult {
  IssuedSession session;  // the new session's access and refresh tokens
  std::string user_id;
  Rehash rehash = Rehash::not_needed;  // for the caller's log line
};

// The signed-in caller of a request: its user and the session its access token belongs to.
struct Caller {
  domain::User user;
  std::string session_id;
};

class AuthService {
 public:
  AuthService(
      repositories::UserRepository& users, kit::security::PasswordHasher& hasher,
      const kit::security::JwtCodec& jwt, SessionService& sessions,
      Clock clock = [] { return std::chrono::system_clock::now(); },
      bool require_verified_email = false);

  // Checks the credentials (with REQUIRE_VERIFIED_EMAIL, the right password of an unverified
  // address throws EmailNotVerified, 403), starts a session (from `origin`) and issues its tokens.
  // Unknown email and wrong password both throw InvalidCredentials after the same argon2 work (a
  // dummy hash for unknown emails). A stored hash of an older cost is replaced by a new one (a
  // failure there does not fail the login; it is reported in the result). Argon2 work still queued
  // when `deadline` passes is dropped (kit::async::Deadline).
  boost::asio::awaitable<LoginResult> login(std::string username, std::string password,
                                            SessionOrigin origin,
                                            kit::async::Deadline deadline = {});

  // The subject (user id) and session of a token that verifies (algorithm, signature, exp with
  // leeway, iss, aud) and names a session (`sid`), without touching the database; nullopt
  // otherwise, with a short `reason` for logs (never the token). Whether that session is still
  // active is the caller's second half of the check (UserRepository::find_caller).
  std::optional<domain::SessionKey> verify_token(std::string_view token, std::string& reason) const;

  // verify_token() plus "the session is active": the caller, or nullopt with `reason` set
  // (kSessionEnded when the token is fine but its session was revoked or expired, or its user
  // deleted). Records the session's use (SessionService::record_use). Throws only for failures
  // of the database, never for a bad token (rejections are expected traffic, not exceptions).
  boost::asio::awaitable<std::optional<Caller>> authenticate(std::string_view token,
                                                             std::string& reason,
                                                             kit::async::Deadline deadline = {});

  // The rejection reason for a valid token whose session is no longer active.
  static constexpr std::string_view kSessionEnded = "session_ended";
  // The rejection reason for a valid token without a `sid` (issued before sessions existed).
  static constexpr std::string_view kNoSession = "no_session";

  SessionService& sessions() noexcept { return sessions_; }

 private:
  repositories::UserRepository& users_;
  kit::security::PasswordHasher& hasher_;
  const kit::security::JwtCodec& jwt_;
  SessionService& sessions_;
  bool require_verified_email_;
  Clock clock_;
};

}  // namespace user_service::services
