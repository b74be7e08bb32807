#include "service/services/auth_service.hpp"

#include "kit/errors/app_error.hpp"
#include "service/schemas/validation.hpp"
#include "service/services/account_errors.hpp"

namespace user_service::services {

AuthService::AuthService(repositories::UserRepository& users, kit::security::PasswordHasher& hasher,
                         const kit::security::JwtCodec& jwt, SessionService& sessions, Clock clock,
                         bool require_verified_email)
    : users_(users),
      hasher_(hasher),
      jwt_(jwt),
      sessions_(sessions),
      require_verified_email_(require_verified_email),
      clock_(std::move(clock)) {}

boost::asio::awaitable<LoginResult> AuthService::login(std::string username, std::string password,
                                                       SessionOrigin origin,
                                                       kit::async::Deadline deadline) {
  const std::string email = schemas::normalize_email(username);
  // Only well-formed addresses are ever stored, so anything else (a control character, a NUL
  // that libpq would cut the parameter at) matches no one and never reaches the database.
  std::optional<domain::User> user;
  if (schemas::is_valid_email(email)) user = co_await users_.find_by_email(email, deadline);
  if (!user) {
    co_await hasher_.verify_dummy(std::move(password), deadline);
    throw kit::errors::InvalidCredentials();
  }
  // The password is needed again for a re-hash, so verify() gets a copy (it wipes its own).
  std::string copy = password;
  const kit::security::VerifyResult result =
      co_await hasher_.verify(user->password_hash, std::move(copy), deadline);
  if (!result.ok) throw kit::errors::InvalidCredentials();
  // Only someone who knows the password learns that the address is unverified.
  if (require_verified_email_ && !user->email_verified) throw EmailNotVerified();
  Rehash outcome = Rehash::not_needed;
  if (result.needs_rehash) {
    // The stored hash has an older cost: upgrade it while the plain password is at hand. A
    // failure here must not fail the login.
    try {
      repositories::UserUpdate update;
      update.password_hash = co_await hasher_.hash(std::move(password), deadline);
      update.updated_at = now_of(clock_);
      deadline.check();
      const bool upgraded = (co_await users_.update(user->id, update, deadline)).has_value();
      outcome = upgraded ? Rehash::done : Rehash::failed;
    } catch (const std::exception&) {
      outcome = Rehash::failed;
    }
  }
  IssuedSession session = co_await sessions_.start(user->id, std::move(origin), deadline);
  co_return LoginResult{std::move(session), user->id, outcome};
}

std::optional<domain::SessionKey> AuthService::verify_token(std::string_view token,
                                                            std::string& reason) const {
  kit::security::TokenVerification verified = jwt_.verify(token, clock_());
  if (!verified) {
    reason = kit::security::to_string(verified.error());
    return std::nullopt;
  }
  kit::security::TokenClaims claims = std::move(verified).claims();
  if (claims.sid.empty()) {
    reason = kNoSession;
    return std::nullopt;
  }
  return domain::SessionKey{std::move(claims.sub), std::move(claims.sid)};
}

boost::asio::awaitable<std::optional<Caller>> AuthService::authenticate(
    std::string_view token, std::string& reason, kit::async::Deadline deadline) {
  std::optional<domain::SessionKey> key = verify_token(token, reason);
  if (!key) co_return std::nullopt;
  repositories::CallerRead read =
      co_await users_.find_caller(*key, now_of(clock_), std::nullopt, deadline);
  if (!read.caller) {
    reason = kSessionEnded;
    co_return std::nullopt;
  }
  sessions_.record_use(key->session_id);
  co_return Caller{std::move(*read.caller), std::move(key->session_id)};
}

}  // namespace user_service::services
