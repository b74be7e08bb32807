#include "service/services/session_service.hpp"

#include <algorithm>

#include "kit/security/opaque_token.hpp"
#include "kit/util/uuid.hpp"

namespace user_service::services {

namespace security = kit::security;
using boost::asio::awaitable;

std::string_view to_string(RefreshResult result) noexcept {
  switch (result) {
    case RefreshResult::rotated:
      return "rotated";
    case RefreshResult::grace_retry:
      return "grace_retry";
    case RefreshResult::invalid:
      return "invalid";
    case RefreshResult::reuse_detected:
      return "reuse_detected";
  }
  return "invalid";
}

std::string printable_user_agent(std::string_view raw) {
  constexpr std::size_t kMax = 256;
  std::string out;
  out.reserve(std::min(raw.size(), kMax));
  for (const char c : raw.substr(0, kMax)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  return out;
}

// GCC 12 reports a false -Wmismatched-new-delete in these coroutines' ramps: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

SessionService::SessionService(repositories::SessionRepository& sessions,
                               const security::JwtCodec& jwt, SessionPolicy policy, Clock clock)
    : sessions_(sessions), jwt_(jwt), policy_(policy), clock_(std::move(clock)) {}

IssuedSession SessionService::issue(std::string session_id, std::string user_id,
                                    std::string refresh_token, domain::Timestamp expires_at,
                                    domain::Timestamp now) const {
  IssuedSession issued;
  issued.access = jwt_.issue(user_id, now, session_id);
  issued.refresh_token = std::move(refresh_token);
  issued.refresh_expires_in = std::max(
      std::chrono::seconds(0), std::chrono::duration_cast<std::chrono::seconds>(expires_at - now));
  issued.session_id = std::move(session_id);
  issued.user_id = std::move(user_id);
  return issued;
}

awaitable<IssuedSession> SessionService::start(std::string_view user_id, SessionOrigin origin,
                                               kit::async::Deadline deadline) {
  const domain::Timestamp t = now_of(clock_);
  security::OpaqueToken refresh = security::new_opaque_token();
  repositories::NewSession session;
  session.id = kit::util::uuid_v7(clock_());
  session.user_id = std::string(user_id);
  session.created_at = t;
  session.max_expires_at = t + policy_.max_age;
  session.expires_at = std::min(session.max_expires_at, t + policy_.refresh_ttl);
  session.user_agent = printable_user_agent(origin.user_agent);
  session.client_ip = std::move(origin.client_ip);
  session.refresh_hash = refresh.hash;
  deadline.check();
  co_await sessions_.create(session, deadline);
  co_return issue(std::move(session.id), std::move(session.user_id), std::move(refresh.token),
                  session.expires_at, t);
}

awaitable<RefreshOutcome> SessionService::refresh(std::string_view refresh_token,
                                                  kit::async::Deadline deadline) {
  const domain::Timestamp t = now_of(clock_);
  RefreshOutcome outcome;
  const std::string hash = security::opaque_token_hash(refresh_token);
  security::OpaqueToken next = security::new_opaque_token();
  repositories::Rotation rotation{hash, next.hash,
                                  security::seal_with_token(next.token, refresh_token), t,
                                  t + policy_.refresh_ttl};
  deadline.check();
  if (std::optional<repositories::RotatedSession> rotated =
          co_await sessions_.rotate(rotation, deadline)) {
    outcome.result = RefreshResult::rotated;
    outcome.session_id = rotated->session_id;
    outcome.user_id = rotated->user_id;
    outcome.issued = issue(std::move(rotated->session_id), std::move(rotated->user_id),
                           std::move(next.token), rotated->expires_at, t);
    co_return outcome;
  }
  // Not a live token: unknown, of an ended session, or spent.
  const std::optional<repositories::RefreshTokenState> state =
      co_await sessions_.find_refresh(hash, t, deadline);
  if (!state) co_return outcome;
  outcome.session_id = state->session_id;
  outcome.user_id = state->user_id;
  if (!state->session_active || !state->spent_at) co_return outcome;
  // A client whose answer was lost retries with the same token: inside the grace, while its
  // successor is unused, it gets that successor again (not a second branch).
  // A grace of 0 is none, even at the same instant.
  const bool in_grace =
      policy_.reuse_grace > std::chrono::seconds(0) && t - *state->spent_at <= policy_.reuse_grace;
  if (in_grace && !state->successor_spent) {
    if (std::optional<std::string> successor =
            security::open_with_token(state->successor_enc, refresh_token)) {
      outcome.result = RefreshResult::grace_retry;
      outcome.issued =
          issue(state->session_id, state->user_id, std::move(*successor), state->expires_at, t);
      co_return outcome;
    }
  }
  // A spent token presented again: someone holds a copy. End the session for both holders.
  deadline.check();
  co_await sessions_.revoke(state->session_id, std::nullopt, t, revoke_reason::refresh_reuse,
                            deadline);
  outcome.result = RefreshResult::reuse_detected;
  co_return outcome;
}

awaitable<bool> SessionService::revoke(std::string_view user_id, std::string_view session_id,
                                       std::string_view reason, kit::async::Deadline deadline) {
  deadline.check();
  co_return co_await sessions_.revoke(session_id, user_id, now_of(clock_), reason, deadline);
}

awaitable<std::int64_t> SessionService::revoke_all(std::string_view user_id,
                                                   std::string_view reason,
                                                   std::optional<std::string_view> keep,
                                                   kit::async::Deadline deadline) {
  deadline.check();
  co_return co_await sessions_.revoke_all(user_id, now_of(clock_), reason, keep, deadline);
}

awaitable<std::vector<domain::Session>> SessionService::list(std::string_view user_id,
                                                             kit::async::Deadline deadline) {
  co_return co_await sessions_.list_active(user_id, now_of(clock_), deadline);
}

void SessionService::record_use(const std::string& session_id) {
  const domain::Timestamp t = now_of(clock_);
  const std::lock_guard lock(uses_mutex_);
  // Bounded: one entry per session used since the last flush.
  uses_.insert_or_assign(session_id, t);
}

awaitable<std::size_t> SessionService::flush_activity() {
  std::vector<repositories::SessionUse> batch;
  {
    const std::lock_guard lock(uses_mutex_);
    batch.reserve(uses_.size());
    for (auto& [id, at] : uses_) batch.push_back(repositories::SessionUse{id, at});
    uses_.clear();
  }
  // Bounded statements: 1000 sessions per batch.
  constexpr std::size_t kBatch = 1000;
  for (std::size_t i = 0; i < batch.size(); i += kBatch) {
    const std::size_t n = std::min(kBatch, batch.size() - i);
    co_await sessions_.touch(std::span<const repositories::SessionUse>(batch).subspan(i, n));
  }
  co_return batch.size();
}

awaitable<std::int64_t> SessionService::purge(std::size_t limit) {
  const domain::Timestamp t = now_of(clock_);
  co_return co_await sessions_.purge(t, t - policy_.refresh_ttl, limit);
}

awaitable<std::int64_t> SessionService::count_active() {
  co_return co_await sessions_.count_active(now_of(clock_));
}

#pragma GCC diagnostic pop

}  // namespace user_service::services
