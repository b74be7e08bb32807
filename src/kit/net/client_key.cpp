#include "kit/net/client_key.hpp"

#include <boost/asio/ip/address.hpp>

namespace kit::net {

std::string client_key(std::string_view ip) {
  // IPv4 text has no colon: returned as it is, without parsing (the hot path of every
  // rate-limited request).
  if (ip.find(':') == std::string_view::npos) return std::string(ip);
  if (ip.find('%') != std::string_view::npos) return std::string(ip);  // zone ids: not a client
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address_v6(std::string(ip), ec);
  if (ec) return std::string(ip);
  if (address.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address).to_string();
  }
  auto bytes = address.to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace kit::net
