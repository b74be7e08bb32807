#include "kit/net/cidr.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace kit::net {
namespace {

namespace ip = boost::asio::ip;

// Keeps the first `prefix` bits of `bytes` and clears the rest.
template <std::size_t N>
std::array<unsigned char, N> masked(std::array<unsigned char, N> bytes, unsigned prefix) {
  for (std::size_t i = 0; i < N; ++i) {
    const unsigned bit = static_cast<unsigned>(i) * 8;
    if (prefix >= bit + 8) continue;
    const unsigned keep = prefix > bit ? prefix - bit : 0;
    bytes[i] &= static_cast<unsigned char>(0xFF00u >> keep);
  }
  return bytes;
}

// IPv4-mapped IPv6 addresses are treated as the IPv4 address they carry.
ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<unsigned> parse_prefix(std::string_view s) {
  if (s.empty() || s.size() > 3 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  const auto slash = text.find('/');
  const std::string address_text(text.substr(0, slash));
  if (address_text.empty() || address_text.find('%') != std::string::npos) return std::nullopt;

  boost::system::error_code ec;
  const auto address = ip::make_address(address_text, ec);
  if (ec) return std::nullopt;

  const unsigned max_prefix = address.is_v4() ? 32 : 128;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const auto p = parse_prefix(text.substr(slash + 1));
    if (!p || *p > max_prefix) return std::nullopt;
    prefix = *p;
  }

  if (address.is_v4()) {
    return Cidr(ip::make_address_v4(masked(address.to_v4().to_bytes(), prefix)), prefix);
  }
  const auto network = ip::make_address_v6(masked(address.to_v6().to_bytes(), prefix));
  if (prefix >= 96 && network.is_v4_mapped())
    return Cidr(ip::make_address_v4(ip::v4_mapped, network), prefix - 96);
  return Cidr(network, prefix);
}

bool Cidr::contains(const ip::address& address) const {
  if (network_.is_v6()) {
    // An IPv4 client is also the mapped IPv6 address, which a wide IPv6 network (::/0) holds.
    const auto v6 =
        address.is_v4() ? ip::make_address_v6(ip::v4_mapped, address.to_v4()) : address.to_v6();
    return masked(v6.to_bytes(), prefix_) == network_.to_v6().to_bytes();
  }
  const auto a = unmapped(address);
  return a.is_v4() && masked(a.to_v4().to_bytes(), prefix_) == network_.to_v4().to_bytes();
}

std::string Cidr::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_);
}

}  // namespace kit::net
