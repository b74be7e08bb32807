#pragma once
// AccountTokenRepository on the embedded SQLite executor. Each change runs in one transaction
// on the single writer, which also serializes concurrent uses of one token.
#include <string>
#include <vector>

#include "kit/db/sqlite/database.hpp"
#include "service/repositories/account_token_repository.hpp"

namespace user_service::repositories {

class SqliteAccountTokenRepository final : public AccountTokenRepository {
 public:
  // Borrows `db`, which must outlive the repository and be migrated (migrations/sqlite).
  // A reset's revocations write session.revoked events for `destinations` (docs/events.md).
  explicit SqliteAccountTokenRepository(kit::db::sqlite::Database& db,
                                        std::vector<std::string> destinations = {})
      : db_(db), destinations_(std::move(destinations)) {}

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
  kit::db::sqlite::Database& db_;
  std::vector<std::string> destinations_;
};

}  // namespace user_service::repositories
