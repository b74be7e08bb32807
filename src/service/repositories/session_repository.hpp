#pragma once
// The sessions repository (docs/sessions.md): sessions and the hashes of their refresh tokens.
// Implemented for PostgreSQL (pg_session_repository) and SQLite (sqlite_session_repository) and
// tested with one suite against both. Every method is a coroutine that never blocks the calling
// I/O thread. Tokens never reach it: only their SHA-256 (hex) and the encrypted successor.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "service/domain/session.hpp"

namespace user_service::repositories {

struct NewSession {
  std::string id;
  std::string user_id;
  domain::Timestamp created_at{};      // also the first last_used_at
  domain::Timestamp expires_at{};      // the first refresh token's expiry
  domain::Timestamp max_expires_at{};  // absolute: no refresh moves expires_at past it
  std::string user_agent;
  std::string client_ip;
  std::string refresh_hash;  // the first refresh token
};

// Spends the refresh token `token_hash` and gives its session `successor_hash` instead.
struct Rotation {
  std::string token_hash;
  std::string successor_hash;
  std::string successor_enc;  // the successor, recoverable only with the spent token
  domain::Timestamp now{};
  domain::Timestamp expires_at{};  // the sliding expiry wanted; capped by max_expires_at
};

struct RotatedSession {
  std::string session_id;
  std::string user_id;
  domain::Timestamp expires_at{};
};

// What is known of a refresh token that rotate() did not accept.
struct RefreshTokenState {
  std::string session_id;
  std::string user_id;
  bool session_active = false;  // not revoked, not expired at the time asked
  domain::Timestamp expires_at{};
  std::optional<domain::Timestamp> spent_at;  // nullopt: never spent
  std::string successor_enc;                  // set when spent
  bool successor_spent = false;               // the successor was spent in its turn
};

struct SessionUse {
  std::string session_id;
  domain::Timestamp at{};
};

class SessionRepository {
 public:
  virtual ~SessionRepository() = default;

  // The session and its first refresh token, together (one transaction).
  virtual boost::asio::awaitable<void> create(const NewSession& session,
                                              kit::async::Deadline deadline = {}) = 0;
  // Atomically: when `token_hash` is an unspent token of a session active at `now`, marks it
  // spent (recording the successor), stores the successor, moves the session's expiry and
  // last use, and returns the session. Otherwise changes nothing and returns nullopt. Of two
  // concurrent calls with one token, at most one returns a session.
  virtual boost::asio::awaitable<std::optional<RotatedSession>> rotate(
      const Rotation& rotation, kit::async::Deadline deadline = {}) = 0;
  // The state of a refresh token (nullopt: unknown), for the decision after rotate() refused it.
  virtual boost::asio::awaitable<std::optional<RefreshTokenState>> find_refresh(
      std::string_view token_hash, domain::Timestamp now, kit::async::Deadline deadline = {}) = 0;
  // Revokes the session when it is active (and belongs to `owner`, when given). Returns
  // whether it did. `session_id` is raw client input: a non-UUID is simply not found.
  virtual boost::asio::awaitable<bool> revoke(std::string_view session_id,
                                              std::optional<std::string_view> owner,
                                              domain::Timestamp now, std::string_view reason,
                                              kit::async::Deadline deadline = {}) = 0;
  // Revokes every active session of the user except `keep`; returns how many.
  virtual boost::asio::awaitable<std::int64_t> revoke_all(
      std::string_view user_id, domain::Timestamp now, std::string_view reason,
      std::optional<std::string_view> keep = std::nullopt, kit::async::Deadline deadline = {}) = 0;
  // The user's active sessions at `now`, newest first (at most kMaxListed).
  virtual boost::asio::awaitable<std::vector<domain::Session>> list_active(
      std::string_view user_id, domain::Timestamp now, kit::async::Deadline deadline = {}) = 0;
  // Moves last_used_at forward (never back) for each session, in one statement or transaction.
  virtual boost::asio::awaitable<void> touch(std::span<const SessionUse> uses) = 0;
  // Deletes up to `limit` sessions that ended (revoked, or expired at `now`) with their tokens,
  // and up to `limit` refresh tokens spent before `spent_before`. Returns the rows deleted.
  // Safe to run on any number of replicas at once.
  virtual boost::asio::awaitable<std::int64_t> purge(domain::Timestamp now,
                                                     domain::Timestamp spent_before,
                                                     std::size_t limit) = 0;
  // Sessions active at `now`, all users (the sessions_active gauge).
  virtual boost::asio::awaitable<std::int64_t> count_active(domain::Timestamp now) = 0;

  // The longest list list_active() returns: a user with more live sessions sees the newest.
  static constexpr std::size_t kMaxListed = 100;
};

}  // namespace user_service::repositories
