#pragma once
// The outbox's rows on the embedded SQLite executor (docs/events.md "Delivery", "The outbox
// table"). Every write runs on the Database's single writer, so claims are serialized in this
// process, and each is one statement, atomic against other processes under SQLite's write lock: no
// row is handed out twice while its lease holds.
#include <span>

#include "kit/db/sqlite/connection.hpp"
#include "kit/db/sqlite/database.hpp"
#include "kit/outbox/message.hpp"
#include "kit/outbox/store.hpp"
#include "service/domain/user.hpp"

namespace user_service::repositories {

// Writes `messages` as outbox rows on `c`, inside the caller's transaction (the one making the
// change that causes them): `kept` when their destination is kit::outbox::kKept, else pending
// and due at once. Runs on the writer's thread, like the transaction body that calls it.
void write_outbox(kit::db::sqlite::Connection& c, std::span<const kit::outbox::Message> messages,
                  domain::Timestamp now);

class SqliteOutboxStore final : public kit::outbox::Store {
 public:
  // Borrows `db`, which must outlive the store and be migrated (migrations/sqlite).
  explicit SqliteOutboxStore(kit::db::sqlite::Database& db) : db_(db) {}

  boost::asio::awaitable<std::vector<kit::outbox::Claimed>> claim(
      std::string_view destination, std::size_t limit, kit::outbox::Timestamp now,
      std::chrono::milliseconds lease) override;
  boost::asio::awaitable<void> mark_delivered(const kit::outbox::Claimed& row,
                                              kit::outbox::Timestamp now) override;
  boost::asio::awaitable<void> reschedule(const kit::outbox::Claimed& row,
                                          kit::outbox::Timestamp next_attempt,
                                          std::string_view error) override;
  boost::asio::awaitable<void> release(const kit::outbox::Claimed& row) override;
  boost::asio::awaitable<void> mark_dead(const kit::outbox::Claimed& row,
                                         kit::outbox::Timestamp now,
                                         std::string_view error) override;
  boost::asio::awaitable<std::vector<std::pair<std::string, std::int64_t>>> expire(
      kit::outbox::Timestamp created_before, kit::outbox::Timestamp now) override;
  boost::asio::awaitable<kit::outbox::Stats> stats() override;
  boost::asio::awaitable<std::int64_t> purge(kit::outbox::Timestamp finished_before,
                                             std::size_t limit) override;

 private:
  kit::db::sqlite::Database& db_;
};

}  // namespace user_service::repositories
