#pragma once
// The `auth` rate-limit policy over password checks (README "Rate limiting"). Every route that
// verifies a password — the token route, and PATCH /api/v1/users/me with current_password —
// counts against the same two budgets: one per client (its IP; an IPv6 client's /64) and one
// per account (the normalized email). So guesses cannot move from one route to the other for a
// fresh budget, and each is refused before any argon2id work is done.
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "kit/ratelimit/guard.hpp"

namespace user_service::api {

class PasswordBudget {
 public:
  explicit PasswordBudget(const kit::ratelimit::Guard& guard) noexcept : guard_(&guard) {}

  // Counts one password check; over the budget: kit::errors::RateLimited (429 + Retry-After).
  // `parent`: the request's span when it is sampled (RequestContext::span_parent()).
  boost::asio::awaitable<kit::ratelimit::Decision> check_client(
      std::string_view client_ip, const kit::trace::Parent* parent = nullptr) const;
  // `email` as the client sent it or as stored: normalized here, as lookups normalize it.
  boost::asio::awaitable<kit::ratelimit::Decision> check_account(
      std::string_view email, const kit::trace::Parent* parent = nullptr) const;

  const kit::ratelimit::Guard& guard() const noexcept { return *guard_; }

 private:
  const kit::ratelimit::Guard* guard_;
};

}  // namespace user_service::api
