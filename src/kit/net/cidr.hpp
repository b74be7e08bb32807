#pragma once
// An IP network in CIDR notation ("10.0.0.0/8", "2001:db8::/32", or a bare address meaning
// /32 or /128), for allow-lists such as TRUSTED_PROXIES.
//
// IPv4 and IPv6 meet in one place: a dual-stack listener reports IPv4 clients as IPv4-mapped
// IPv6 addresses (::ffff:10.1.2.3), and those must match IPv4 networks. So mapped addresses
// are compared as IPv4, and a mapped network (::ffff:10.0.0.0/104) is stored as its IPv4 form.
#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kit::net {

class Cidr {
 public:
  // nullopt when `text` is not an address, optionally followed by /prefix within the family's
  // bits. Host bits after the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8), as nginx and
  // the kernel do; zone ids ("fe80::1%eth0") are refused.
  static std::optional<Cidr> parse(std::string_view text);

  bool contains(const boost::asio::ip::address& address) const;

  const boost::asio::ip::address& network() const noexcept { return network_; }
  unsigned prefix_length() const noexcept { return prefix_; }
  std::string to_string() const;  // "10.0.0.0/8"

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  Cidr(boost::asio::ip::address network, unsigned prefix) : network_(network), prefix_(prefix) {}

  boost::asio::ip::address network_;
  unsigned prefix_ = 0;
};

}  // namespace kit::net
