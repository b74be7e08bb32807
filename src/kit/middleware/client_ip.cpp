#include "kit/middleware/client_ip.hpp"

#include <optional>

namespace kit::middleware {

namespace {

using boost::asio::ip::address;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An address as proxies write it: "1.2.3.4", "2001:db8::1", "[2001:db8::1]", with an optional
// port after an IPv4 address or a bracketed IPv6 one.
std::optional<address> parse_hop(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos &&
             text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);  // "1.2.3.4:5678"
  }
  boost::system::error_code ec;
  const address a = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return a;
}

bool is_trusted(const address& a, std::span<const net::Cidr> trusted) {
  for (const auto& cidr : trusted) {
    if (cidr.contains(a)) return true;
  }
  return false;
}

// Mapped IPv4 (::ffff:1.2.3.4) is shown as IPv4, so one client has one key.
std::string canonical(const address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).to_string();
  }
  return a.to_string();
}

}  // namespace

std::string resolve_client_ip(std::string_view peer,
                              std::span<const std::string_view> forwarded_for,
                              std::span<const net::Cidr> trusted) {
  const auto peer_address = parse_hop(peer);
  if (!peer_address) return std::string(peer);
  if (trusted.empty() || forwarded_for.empty() || !is_trusted(*peer_address, trusted)) {
    return canonical(*peer_address);
  }
  address client = *peer_address;
  std::size_t hops = 0;
  for (auto line = forwarded_for.rbegin(); line != forwarded_for.rend(); ++line) {
    std::string_view rest = *line;
    while (true) {
      const auto comma = rest.rfind(',');
      const std::string_view item = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      if (!trim(item).empty()) {
        if (++hops > kMaxForwardedHops) return canonical(client);
        const auto hop = parse_hop(item);
        if (!hop) return canonical(client);  // garbage: keep the last address we can vouch for
        client = *hop;
        if (!is_trusted(client, trusted)) return canonical(client);
      }
      if (comma == std::string_view::npos) break;
      rest = rest.substr(0, comma);
    }
  }
  // Every hop was a trusted proxy: the left-most one is as far as we can see.
  return canonical(client);
}

std::optional<http::Response> ClientIp::before(http::Request& req, http::RequestContext& ctx) {
  // Without a trust list or an X-Forwarded-For line the answer is the peer, which the server
  // already wrote in canonical form (mapped IPv4 as IPv4): parsing and printing it again per
  // request cost ~3,000 instructions.
  if (!trusted_.empty()) {
    std::vector<std::string_view> lines;
    const auto [first, last] = req.equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) lines.push_back(it->value());
    if (!lines.empty()) ctx.client_ip = resolve_client_ip(ctx.client_ip, lines, trusted_);
  }
  return std::nullopt;
}

}  // namespace kit::middleware
