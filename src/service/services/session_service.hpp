#pragma once
// Sessions and the token lifecycle without HTTP (docs/sessions.md): a session per sign-in, the
// refresh grant with rotation, a grace for a lost response and theft detection, revocation,
// the listing, and the batched record of when each session was last used.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "kit/async/deadline.hpp"
#include "kit/security/jwt.hpp"
#include "service/domain/session.hpp"
#include "service/repositories/session_repository.hpp"
#include "service/services/user_service.hpp"

namespace user_service::services {

struct SessionPolicy {
  std::chrono::seconds refresh_ttl{std::chrono::hours(24 * 30)};  // sliding
  std::chrono::seconds max_age{std::chrono::hours(24 * 90)};      // absolute
  std::chrono::seconds reuse_grace{10};
};

// Where a sign-in came from, as shown in the sessions listing.
struct SessionOrigin {
  std::string user_agent;  // raw header value; cut and made printable here
  std::string client_ip;
};

// What the token route answers: an access token naming the session, and its refresh token.
struct IssuedSession {
  kit::security::IssuedToken access;
  std::string refresh_token;
  std::chrono::seconds refresh_expires_in{0};
  std::string session_id;
  std::string user_id;
};

// refresh_total{result}: how a refresh grant ended.
enum class RefreshResult {
  rotated,         // a live token: spent, successor issued
  grace_retry,     // a just-spent token again, successor unused: the same successor again
  invalid,         // unknown, expired, or of a revoked or expired session
  reuse_detected,  // a spent token replayed: the session is revoked
};
std::string_view to_string(RefreshResult result) noexcept;

struct RefreshOutcome {
  RefreshResult result = RefreshResult::invalid;
  std::optional<IssuedSession> issued;  // set for rotated and grace_retry
  std::string session_id;               // when the token was known (for the log line)
  std::string user_id;
};

// Why sessions were revoked: the `reason` of session_revoked log lines, stored with the row.
namespace revoke_reason {
inline constexpr std::string_view logout = "logout";
inline constexpr std::string_view logout_all = "logout_all";
inline constexpr std::string_view user_request = "user_request";
inline constexpr std::string_view admin = "admin";
inline constexpr std::string_view password_changed = "password_changed";
inline constexpr std::string_view password_reset = "password_reset";
inline constexpr std::string_view refresh_reuse = "refresh_reuse";
}  // namespace revoke_reason

class SessionService {
 public:
  SessionService(
      repositories::SessionRepository& sessions, const kit::security::JwtCodec& jwt,
      SessionPolicy policy, Clock clock = [] { return std::chrono::system_clock::now(); });

  // A new session for a user who just proved its password: stored with its first refresh
  // token (hashed) before anything is returned.
  boost::asio::awaitable<IssuedSession> start(std::string_view user_id, SessionOrigin origin,
                                              kit::async::Deadline deadline = {});
  // The refresh grant (RFC 6749 §6) with rotation. Never throws for a bad token (that is
  // RefreshResult::invalid); throws for failures of the database.
  boost::asio::awaitable<RefreshOutcome> refresh(std::string_view refresh_token,
                                                 kit::async::Deadline deadline = {});

  // Revokes one session of `user_id`; false when it is not an active session of that user.
  boost::asio::awaitable<bool> revoke(std::string_view user_id, std::string_view session_id,
                                      std::string_view reason, kit::async::Deadline deadline = {});
  // Revokes every session of the user except `keep`; returns how many.
  boost::asio::awaitable<std::int64_t> revoke_all(
      std::string_view user_id, std::string_view reason,
      std::optional<std::string_view> keep = std::nullopt, kit::async::Deadline deadline = {});
  boost::asio::awaitable<std::vector<domain::Session>> list(std::string_view user_id,
                                                            kit::async::Deadline deadline = {});

  // An authenticated request used the session now. Costs a map update under a mutex; the
  // database sees it with flush_activity(), at most once per flush per session.
  void record_use(const std::string& session_id);
  // Writes the recorded uses (one statement) and forgets them. Returns how many.
  boost::asio::awaitable<std::size_t> flush_activity();
  // One round of the purge (repository purge, bounded by `limit` rows of each kind).
  boost::asio::awaitable<std::int64_t> purge(std::size_t limit);
  boost::asio::awaitable<std::int64_t> count_active();

  const SessionPolicy& policy() const noexcept { return policy_; }

 private:
  IssuedSession issue(std::string session_id, std::string user_id, std::string refresh_token,
                      domain::Timestamp expires_at, domain::Timestamp now) const;

  repositories::SessionRepository& sessions_;
  const kit::security::JwtCodec& jwt_;
  SessionPolicy policy_;
  Clock clock_;
  std::mutex uses_mutex_;
  std::unordered_map<std::string, domain::Timestamp> uses_;
};

// A User-Agent as stored and shown: at most 256 bytes, printable ASCII (anything else is '?'),
// so nothing invalid reaches the database or the listing.
std::string printable_user_agent(std::string_view raw);

}  // namespace user_service::services
