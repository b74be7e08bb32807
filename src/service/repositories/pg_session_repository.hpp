#pragma once
// SessionRepository on PostgreSQL through the kit's connection pool. Each operation is ONE
// statement (data-modifying CTEs where several tables change), so it is atomic without a
// leased connection, and a refresh token's rotation is decided by a row lock: of two
// concurrent rotations of one token, the second finds it spent.
#include "kit/db/pg/pool.hpp"
#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/session_repository.hpp"

namespace user_service::repositories {

class PgSessionRepository final : public SessionRepository {
 public:
  // Revocations write session.revoked events for `destinations` (docs/events.md; none: kept).
  explicit PgSessionRepository(kit::db::pg::Pool& pool, std::vector<std::string> destinations = {})
      : pool_(pool), destinations_(pg_destinations(destinations)) {}

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
  kit::db::pg::Pool& pool_;
  std::string destinations_;  // pg_destinations()
};

}  // namespace user_service::repositories
