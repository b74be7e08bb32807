#pragma once
// The client address (TRUSTED_PROXIES in docs/configuration.md): the socket peer, unless the peer
// is a trusted proxy; then X-Forwarded-For is read from the right (the entries proxies appended
// last), skipping trusted addresses, and the first untrusted address is the client — the only entry
// a client cannot forge. Left-most entries are never believed on their own. A malformed entry stops
// the walk at the last good address. Everything else (untrusted peer, no header, empty trust list)
// keeps the peer. Sets ctx.client_ip; runs right after RequestId.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kit/http/pipeline.hpp"
#include "kit/net/cidr.hpp"

namespace kit::middleware {

// At most this many X-Forwarded-For entries are examined (from the right).
inline constexpr std::size_t kMaxForwardedHops = 32;

// `forwarded_for`: the X-Forwarded-For field lines, in order. Pure; for tests.
std::string resolve_client_ip(std::string_view peer,
                              std::span<const std::string_view> forwarded_for,
                              std::span<const net::Cidr> trusted);

class ClientIp final : public http::HookMiddleware {
 public:
  explicit ClientIp(std::vector<net::Cidr> trusted) : trusted_(std::move(trusted)) {}
  std::optional<http::Response> before(http::Request& req, http::RequestContext& ctx) override;

 private:
  std::vector<net::Cidr> trusted_;
};

}  // namespace kit::middleware
