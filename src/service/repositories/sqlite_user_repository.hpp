#pragma once
// UserRepository on the embedded SQLite executor. Timestamps are stored as RFC 3339 UTC text
// with microseconds (timestamps.hpp), which sorts like time, so keyset pagination compares text.
// Every call runs on the Database's workers; the caller's coroutine never blocks.
#include <string>
#include <vector>

#include "kit/db/sqlite/database.hpp"
#include "service/repositories/user_repository.hpp"

namespace user_service::repositories {

class SqliteUserRepository final : public UserRepository {
 public:
  // Borrows `db`, which must outlive the repository and be migrated (migrations/sqlite).
  // A new password's revocations write session.revoked events for `destinations`
  // (docs/events.md; none: kept).
  explicit SqliteUserRepository(kit::db::sqlite::Database& db,
                                std::vector<std::string> destinations = {})
      : db_(db), destinations_(std::move(destinations)) {}

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
  boost::asio::awaitable<Page> list(std::size_t limit, std::optional<PageCursor> after,
                                    kit::async::Deadline deadline = {}) override;

 private:
  kit::db::sqlite::Database& db_;
  std::vector<std::string> destinations_;
};

}  // namespace user_service::repositories
