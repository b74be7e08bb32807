#include "service/users_module.hpp"

#include <algorithm>
#include <array>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/log/log.hpp"
#include "service/api/routes/account.hpp"
#include "service/api/routes/auth.hpp"
#include "service/api/routes/sessions.hpp"
#include "service/api/routes/users.hpp"
#include "service/event_destinations.hpp"

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

services::SessionPolicy session_policy(const Settings& settings) {
  using std::chrono::hours;
  return services::SessionPolicy{
      .refresh_ttl = hours(24) * settings.refresh_token_ttl_days,
      .max_age = hours(24) * settings.session_max_age_days,
      .reuse_grace = std::chrono::seconds(settings.refresh_reuse_grace_seconds)};
}

services::AccountMail account_mail(const Settings& settings) {
  const std::optional<std::string> destination = email_destination(settings);
  if (!destination) return services::AccountMail();
  return services::AccountMail(emails::AccountEmails(settings.app_name, settings.public_base_url),
                               *destination);
}

kit::security::PasswordHashCost password_hash_cost(const Settings& settings) {
  return kit::security::PasswordHashCost{settings.password_hash_memory_kib,
                                         settings.password_hash_iterations};
}

// The queue bound: a burst of logins waits its turn; beyond it clients get 503 + Retry-After
// rather than unbounded memory (each queued argon2 job holds a password until it runs).
UsersModule::UsersModule(const Settings& settings, repositories::UserRepository& users,
                         repositories::SessionRepository& sessions,
                         repositories::AccountTokenRepository& account_tokens,
                         services::Events events, kit::metrics::Registry* metrics)
    : pool_(cpu_threads(), std::max<std::size_t>(256, cpu_threads() * 64)),
      hasher_(pool_, password_hash_cost(settings), hash_observer(metrics)),
      jwt_(jwt_config(settings)),
      users_(users, hasher_, events, account_mail(settings)),
      sessions_(sessions, jwt_, session_policy(settings)),
      auth_(
          users, hasher_, jwt_, sessions_, [] { return std::chrono::system_clock::now(); },
          settings.require_verified_email),
      accounts_(account_tokens, users, hasher_, account_mail(settings), std::move(events)),
      current_user_(auth_),
      metrics_(metrics) {
  if (metrics == nullptr) return;
  sessions_active_ = &metrics
                          ->gauge("sessions_active",
                                  "Sessions neither revoked nor expired, all users and replicas, "
                                  "as counted by this replica's last upkeep (every 5 minutes).")
                          .labels();
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
  api::RefreshCounter counter;
  if (metrics_ != nullptr) {
    auto& family = metrics_->counter(
        "refresh_total",
        "Refresh grants by result: rotated, grace_retry (a lost answer retried), invalid, "
        "reuse_detected (a spent token replayed; its session was revoked).",
        {"result"});
    using R = services::RefreshResult;
    std::array<kit::metrics::Counter*, 4> cells{};
    for (const R r : {R::rotated, R::grace_retry, R::invalid, R::reuse_detected}) {
      cells[static_cast<std::size_t>(r)] = &family.labels(services::to_string(r));
    }
    counter = [cells](R r) { cells[static_cast<std::size_t>(r)]->inc(); };
  }
  api::register_auth_routes(router, auth_, auth_guard, std::move(counter));
  api::register_session_routes(router, sessions_, users_, current_user_);
  api::register_account_routes(router, accounts_, current_user_, auth_guard, background_);
}

void UsersModule::start_upkeep(boost::asio::any_io_executor executor) {
  upkeep_timer_ = std::make_unique<boost::asio::steady_timer>(executor);
  upkeep_running_.store(true);
  upkeep_done_.store(false);
  boost::asio::co_spawn(executor, upkeep(), boost::asio::detached);
}

boost::asio::awaitable<void> UsersModule::upkeep() {
  constexpr auto kFlushEvery = std::chrono::seconds(60);
  constexpr unsigned kPurgeEveryRounds = 5;
  constexpr std::size_t kPurgeBatch = 1000;
  constexpr int kPurgeBatchesPerRound = 20;
  for (unsigned round = 0; upkeep_running_.load(); ++round) {
    if (round % kPurgeEveryRounds == 0) {
      try {
        std::int64_t purged = 0;
        for (int i = 0; i < kPurgeBatchesPerRound && upkeep_running_.load(); ++i) {
          const std::int64_t n = co_await sessions_.purge(kPurgeBatch);
          purged += n;
          if (n == 0) break;
        }
        if (purged > 0) kit::log::info("sessions", "sessions_purged", {{"rows", purged}});
        const std::int64_t tokens = co_await accounts_.purge(kPurgeBatch);
        if (tokens > 0) kit::log::info("users", "account_tokens_purged", {{"rows", tokens}});
        const std::int64_t active = co_await sessions_.count_active();
        if (sessions_active_ != nullptr) sessions_active_->set(static_cast<double>(active));
      } catch (const std::exception& e) {
        kit::log::warning("sessions", "session_upkeep_failed",
                          {{"task", "purge"}, {"error", e.what()}});
      }
    }
    upkeep_timer_->expires_after(kFlushEvery);
    boost::system::error_code ec;
    co_await upkeep_timer_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (!upkeep_running_.load()) break;
    try {
      co_await sessions_.flush_activity();
    } catch (const std::exception& e) {
      kit::log::warning("sessions", "session_upkeep_failed",
                        {{"task", "last_used"}, {"error", e.what()}});
    }
  }
  upkeep_done_.store(true);
}

boost::asio::awaitable<void> UsersModule::stop_upkeep() {
  if (!upkeep_timer_) co_return;
  upkeep_running_.store(false);
  boost::asio::post(upkeep_timer_->get_executor(), [this] { upkeep_timer_->cancel(); });
  if (!co_await background_.drain(std::chrono::seconds(5))) {
    kit::log::warning("users", "background_work_abandoned",
                      {{"tasks", static_cast<std::int64_t>(background_.running())}});
  }
  // A round under way finishes its statement; bounded at 5 s.
  boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor);
  for (int i = 0; i < 500 && !upkeep_done_.load(); ++i) {
    wait.expires_after(std::chrono::milliseconds(10));
    boost::system::error_code ec;
    co_await wait.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  try {
    co_await sessions_.flush_activity();
  } catch (const std::exception& e) {
    kit::log::warning("sessions", "session_upkeep_failed",
                      {{"task", "last_used"}, {"error", e.what()}});
  }
}

}  // namespace user_service
