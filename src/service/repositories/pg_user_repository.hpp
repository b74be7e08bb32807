#pragma once
// UserRepository on PostgreSQL through the kit's connection pool
// (docs/operations.md "PostgreSQL pool"). Reads and idempotent writes run with Retry::safe;
// create() is made safe to replay by its client-generated id (see the .cpp). Ids that are not
// UUIDs are simply not found.
#include "kit/db/pg/pool.hpp"
#include "service/repositories/outbox_writes.hpp"
#include "service/repositories/user_repository.hpp"

namespace user_service::repositories {

class PgUserRepository final : public UserRepository {
 public:
  // A new password's revocations write session.revoked events for `destinations`
  // (docs/events.md; none: kept).
  explicit PgUserRepository(kit::db::pg::Pool& pool, std::vector<std::string> destinations = {})
      : pool_(pool), destinations_(pg_destinations(destinations)) {}

  boost::asio::awaitable<domain::User> create(const NewUser& user,
                                              kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<domain::User>> find_by_id(
      std::string_view id, kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<CallerRead> find_caller(
      const domain::SessionKey& key, domain::Timestamp now,
      std::optional<std::string_view> other = std::nullopt,
      kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<domain::User>> find_by_email(
      std::string_view email, kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<std::optional<domain::User>> update(
      std::string_view id, const UserUpdate& update, kit::async::Deadline deadline = {}) override;
  boost::asio::awaitable<bool> remove(std::string_view id, kit::async::Deadline deadline = {},
                                      std::vector<kit::outbox::Message> outbox = {}) override;
  // Throws std::invalid_argument when `after` has an id that is not a UUID.
  boost::asio::awaitable<Page> list(std::size_t limit, std::optional<PageCursor> after,
                                    kit::async::Deadline deadline = {}) override;

 private:
  kit::db::pg::Pool& pool_;
  std::string destinations_;  // pg_destinations()
};

}  // namespace user_service::repositories
