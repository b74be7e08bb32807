#pragma once
// AccountTokenRepository on PostgreSQL through the kit's connection pool. Each change is ONE
// statement (data-modifying CTEs), so it is atomic without a leased connection, and spending a
// token is decided by its row lock: of two concurrent uses, the second finds it spent.
#include <string>
#include <vector>

#include "kit/db/pg/pool.hpp"
#include "service/repositories/account_token_repository.hpp"
#include "service/repositories/outbox_writes.hpp"

namespace user_service::repositories {

class PgAccountTokenRepository final : public AccountTokenRepository {
 public:
  // A reset's revocations write session.revoked events for `destinations` (docs/events.md;
  // none: kept).
  explicit PgAccountTokenRepository(kit::db::pg::Pool& pool,
                                    std::vector<std::string> destinations = {})
      : pool_(pool), destinations_(pg_destinations(destinations)) {}

  boost::asio::awaitable<bool> issue(const NewAccountToken& token,
                                     std::vector<kit::outbox::Message> outbox,
                                     kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<UsableToken>> find_usable(
      std::string_view token_hash, TokenPurpose purpose, domain::Timestamp now,
      kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<domain::User>> verify_email(
      const EmailVerification& verification, kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<domain::User>> reset_password(
      const PasswordReset& reset, kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::int64_t> purge(domain::Timestamp before, std::size_t limit) override;

 private:
  kit::db::pg::Pool& pool_;
  std::string destinations_;  // pg_destinations()
};

}  // namespace user_service::repositories
