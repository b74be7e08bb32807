#pragma once
// The key a per-client budget is counted under (rate limits, README "Rate limiting").
//
// One IPv4 address is one client. An IPv6 client is its /64: a subscriber, a host or a
// container is routinely given a whole /64 and may use any of its 2^64 addresses, so keying
// per address would hand it unlimited budgets and let it fill the limiter's table. IPv4-mapped
// IPv6 addresses (::ffff:1.2.3.4) count as their IPv4 address.
#include <string>
#include <string_view>

namespace kit::net {

// "203.0.113.7" -> "203.0.113.7"; "2001:db8:1:2:aa:bb:cc:dd" -> "2001:db8:1:2::/64";
// "::ffff:203.0.113.7" -> "203.0.113.7". Text that is not an address is returned unchanged.
std::string client_key(std::string_view ip);

}  // namespace kit::net
