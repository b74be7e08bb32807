#pragma once
// The users and authentication feature as one unit the application factory owns: the bounded
// CPU worker pool for argon2id (threads = hardware cores), the password hasher, the JWT codec,
// the services, the current-user dependency, the routes and the sessions' background upkeep.
// App keeps one of these, built on the database's repositories.
#include <atomic>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "kit/async/background.hpp"
#include "kit/async/worker_pool.hpp"
#include "kit/http/router.hpp"
#include "kit/metrics/registry.hpp"
#include "kit/ratelimit/guard.hpp"
#include "kit/security/jwt.hpp"
#include "kit/security/password_hasher.hpp"
#include "service/api/dependencies.hpp"
#include "service/services/account_service.hpp"
#include "service/services/auth_service.hpp"
#include "service/services/session_service.hpp"
#include "service/services/user_service.hpp"
#include "service/settings.hpp"

namespace user_service {

kit::security::JwtConfig jwt_config(const Settings& settings);
kit::security::PasswordHashCost password_hash_cost(const Settings& settings);
services::SessionPolicy session_policy(const Settings& settings);
// The account emails as the settings send them (docs/account-emails.md): to the "email"
// destination, or only logged when no email setting is set.
services::AccountMail account_mail(const Settings& settings);

class UsersModule {
 public:
  // `metrics`: password_hash_seconds{operation} goes there; null = no metrics.
  // `events`: what the services write their changes' events with (docs/events.md).
  UsersModule(const Settings& settings, repositories::UserRepository& users,
              repositories::SessionRepository& sessions,
              repositories::AccountTokenRepository& account_tokens,
              services::Events events = services::Events(),
              kit::metrics::Registry* metrics = nullptr);
  UsersModule(const UsersModule&) = delete;
  UsersModule& operator=(const UsersModule&) = delete;
  ~UsersModule();

  // `auth_guard` is the `auth` rate-limit policy for the token and registration routes.
  void register_routes(kit::http::Router& router, const kit::ratelimit::Guard& auth_guard);

  // The sessions' upkeep on `executor` (docs/sessions.md "Upkeep"): recorded last uses are
  // written every minute; every five minutes ended sessions, old spent refresh tokens and
  // expired email tokens are purged in bounded batches (any number of replicas may do it at
  // once) and sessions_active is counted. stop_upkeep() ends it, waits (bounded) for the work
  // requests left running after their answers, and writes the last uses.
  void start_upkeep(boost::asio::any_io_executor executor);
  boost::asio::awaitable<void> stop_upkeep();

  services::UserService& users() noexcept { return users_; }
  services::SessionService& sessions() noexcept { return sessions_; }
  const kit::security::JwtCodec& jwt() const noexcept { return jwt_; }

 private:
  kit::async::WorkerPool pool_;
  kit::security::PasswordHasher hasher_;
  kit::security::JwtCodec jwt_;
  services::UserService users_;
  services::SessionService sessions_;
  services::AuthService auth_;
  services::AccountService accounts_;
  api::CurrentUser current_user_;
  // What reset requests do after their 202 (at most this many at once).
  kit::async::Background background_{256};
  boost::asio::awaitable<void> upkeep();

  kit::metrics::Registry* metrics_;
  kit::metrics::Gauge* sessions_active_ = nullptr;
  std::unique_ptr<boost::asio::steady_timer> upkeep_timer_;
  std::atomic<bool> upkeep_running_{false};
  std::atomic<bool> upkeep_done_{true};
  // password_hash_dropped_total; last, so that no scrape reads the hasher after it is gone.
  kit::metrics::Registration dropped_metric_;
};

}  // namespace user_service
