#include "service/users_module.hpp"

#include <algorithm>
#include <thread>

#include "service/api/routes/auth.hpp"
#include "service/api/routes/users.hpp"

namespace user_service {
namespace {

std::size_t cpu_threads() {
  return std::max(1U, std::thread::hardware_concurrency());
}

// password_hash_seconds{operation}: argon2id work on the CPU pool, queueing excluded.
kit::security::PasswordDurationObserver hash_observer(kit::metrics::Registry* metrics) {
  if (metrics == nullptr) return {};
  auto& family = metrics->histogram(
      "password_hash_seconds",
      "argon2id time per call on the CPU worker pool (queueing excluded), by operation: hash, "
      "verify, verify_dummy (a login naming an unknown user).",
      {"operation"}, {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  auto* hash = &family.labels("hash");
  auto* verify = &family.labels("verify");
  auto* dummy = &family.labels("verify_dummy");
  return [hash, verify, dummy](kit::security::PasswordOperation op, double seconds) {
    using Op = kit::security::PasswordOperation;
    (op == Op::hash ? hash : op == Op::verify ? verify : dummy)->observe(seconds);
  };
}

}  // namespace

kit::security::JwtConfig jwt_config(const Settings& settings) {
  kit::security::JwtConfig config;
  config.secret = settings.jwt_secret;
  config.algorithm = settings.jwt_algorithm;
  config.keys = settings.jwt_signing_keys;
  config.issuer = settings.jwt_issuer;
  config.audience = settings.jwt_audience;
  config.lifetime = std::chrono::minutes(settings.jwt_expiration_minutes);
  config.leeway = std::chrono::seconds(30);
  return config;
}

kit::security::PasswordHashCost password_hash_cost(const Settings& settings) {
  return kit::security::PasswordHashCost{settings.password_hash_memory_kib,
                                         settings.password_hash_iterations};
}

// The queue bound: a burst of logins waits its turn; beyond it clients get 503 + Retry-After
// rather than unbounded memory (each queued argon2 job holds a password until it runs).
UsersModule::UsersModule(const Settings& settings, repositories::UserRepository& users,
                         kit::metrics::Registry* metrics)
    : pool_(cpu_threads(), std::max<std::size_t>(256, cpu_threads() * 64)),
      hasher_(pool_, password_hash_cost(settings), hash_observer(metrics)),
      jwt_(jwt_config(settings)),
      users_(users, hasher_),
      auth_(users, hasher_, jwt_),
      current_user_(auth_) {
  if (metrics == nullptr) return;
  dropped_metric_ = metrics->callback(
      "password_hash_dropped_total",
      "argon2id calls not run because their request's deadline (REQUEST_TIMEOUT_SECONDS) passed "
      "while they waited for a worker.",
      kit::metrics::Type::counter, {}, [this](kit::metrics::Sink& s) {
        s.add(static_cast<double>(hasher_.dropped_past_deadline()));
      });
}

// The pool joins its threads first (declared first, destroyed last would be wrong: jobs refer
// to the hasher), so stop it explicitly while everything it may touch still exists.
UsersModule::~UsersModule() {
  pool_.stop();
}

void UsersModule::register_routes(kit::http::Router& router,
                                  const kit::ratelimit::Guard& auth_guard) {
  api::register_user_routes(router, users_, current_user_, auth_guard);
  api::register_auth_routes(router, auth_, auth_guard);
}

}  // namespace user_service
