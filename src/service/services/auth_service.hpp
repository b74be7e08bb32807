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
#include "service/services/user_service.hpp"

namespace user_service::services {

enum class Rehash { not_needed, done, failed };

struct LoginResult {
  kit::security::IssuedToken token;
  std::string user_id;
  Rehash rehash = Rehash::not_needed;  // for the caller's log line
};

class AuthService {
 public:
  AuthService(
      repositories::UserRepository& users, kit::security::PasswordHasher& hasher,
      const kit::security::JwtCodec& jwt,
      Clock clock = [] { return std::chrono::system_clock::now(); });

  // Checks the credentials and issues a token. Unknown email and wrong password both throw
  // InvalidCredentials after the same argon2 work (a dummy hash for unknown emails).
  // A stored hash of an older cost is replaced by a new one (a failure there does not fail the
  // login; it is reported in the result).
  // Argon2 work still queued when `deadline` passes is dropped (kit::async::Deadline).
  boost::asio::awaitable<LoginResult> login(std::string username, std::string password,
                                            kit::async::Deadline deadline = {});

  // The subject (user id) of a token that verifies (algorithm, signature, exp with leeway, iss,
  // aud), without touching the database; nullopt otherwise, with a short `reason` for logs
  // (never the token). Whether that user still exists is the caller's second half of the check.
  std::optional<std::string> verify_token(std::string_view token, std::string& reason) const;

  // verify_token() plus "the user still exists": the user, or nullopt with `reason` set
  // (kUnknownSubject when the token is fine but its user is gone). Throws only for failures of
  // the database, never for a bad token (rejections are expected traffic, not exceptions).
  boost::asio::awaitable<std::optional<domain::User>> authenticate(
      std::string_view token, std::string& reason, kit::async::Deadline deadline = {});

  // The rejection reason for a valid token whose user no longer exists.
  static constexpr std::string_view kUnknownSubject = "unknown_subject";

 private:
  repositories::UserRepository& users_;
  kit::security::PasswordHasher& hasher_;
  const kit::security::JwtCodec& jwt_;
  Clock clock_;
};

}  // namespace user_service::services
