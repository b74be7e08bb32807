#pragma once
// The outbox's rows on PostgreSQL (docs/events.md "Delivery", "The outbox table"), through the
// kit's connection pool. Every operation is ONE statement, atomic without a leased connection.
// Claims of any number of dispatchers (in this process or on other replicas) take different rows:
// each locks the rows it picks with FOR UPDATE SKIP LOCKED and leases them in the same statement.
#include "kit/db/pg/pool.hpp"
#include "kit/outbox/store.hpp"

namespace user_service::repositories {

class PgOutboxStore final : public kit::outbox::Store {
 public:
  // Borrows `pool`, which must outlive the store and whose database is migrated.
  explicit PgOutboxStore(kit::db::pg::Pool& pool) : pool_(pool) {}

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
  kit::db::pg::Pool& pool_;
};

}  // namespace user_service::repositories
