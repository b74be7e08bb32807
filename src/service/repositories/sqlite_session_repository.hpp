#pragma once
// SessionRepository on the embedded SQLite executor. Writes that touch several rows run in one
// transaction on the single writer, which also serializes concurrent rotations of one token.
#include <string>
#include <vector>

#include "kit/db/sqlite/database.hpp"
#include "service/repositories/session_repository.hpp"

namespace user_service::repositories {

class SqliteSessionRepository final : public SessionRepository {
 public:
  // Borrows `db`, which must outlive the repository and be migrated (migrations/sqlite).
  // Revocations write session.revoked events for `destinations` (docs/events.md; none: kept).
  explicit SqliteSessionRepository(kit::db::sqlite::Database& db,
                                   std::vector<std::string> destinations = {})
      : db_(db), destinations_(std::move(destinations)) {}

  boost::asio::awaitable<void> create(const NewSession& session,
                                      kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<RotatedSession>> rotate(
      const Rotation& rotation, kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<RefreshTokenState>> find_refresh(
      std::string_view token_hash, domain::Timestamp now,
      kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<bool> revoke(std::string_view session_id,
                                      std::optional<std::string_view> owner, domain::Timestamp now,
                                      std::string_view reason,
                                      kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::int64_t> revoke_all(
      std::string_view user_id, domain::Timestamp now, std::string_view reason,
      std::optional<std::string_view> keep = std::nullopt,
      kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::vector<domain::Session>> list_active(
      std::string_view user_id, domain::Timestamp now, kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<void> touch(std::span<const SessionUse> uses) override;
  boost::asio::awaitable<std::int64_t> purge(domain::Timestamp now, domain::Timestamp spent_before,
                                             std::size_t limit) override;
  boost::asio::awaitable<std::int64_t> count_active(domain::Timestamp now) override;

 private:
  boost::asio::awaitable<std::int64_t> revoke_where(const char* sql,
                                                    std::vector<kit::db::sqlite::Value> params,
                                                    domain::Timestamp now, std::string_view reason,
                                                    kit::async::Deadline deadline);

  kit::db::sqlite::Database& db_;
  std::vector<std::string> destinations_;
};

}  // namespace user_service::repositories
