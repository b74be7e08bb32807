#include "kit/net/client_key.hpp"

#include <gtest/gtest.h>

namespace kit::net {
namespace {

TEST(ClientKey, Ipv4IsItsOwnKey) {
  EXPECT_EQ(client_key("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(client_key("10.0.0.1"), "10.0.0.1");
}

TEST(ClientKey, Ipv6IsKeyedByItsSlash64) {
  EXPECT_EQ(client_key("2001:db8:1:2:aa:bb:cc:dd"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("::1"), "::/64");
}

TEST(ClientKey, NeighbouringSlash64sAreDifferentClients) {
  EXPECT_NE(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
  EXPECT_NE(client_key("2001:db8:1:2::1"), client_key("2001:db9:1:2::1"));
}

TEST(ClientKey, MappedIpv4CountsAsIpv4) {
  EXPECT_EQ(client_key("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(client_key("::ffff:203.0.113.7"), client_key("203.0.113.7"));
}

TEST(ClientKey, TextThatIsNotAnAddressIsKeptAsItIs) {
  EXPECT_EQ(client_key(""), "");
  EXPECT_EQ(client_key("unix"), "unix");
  EXPECT_EQ(client_key("not:an:address:at:all"), "not:an:address:at:all");
  EXPECT_EQ(client_key("fe80::1%eth0"), "fe80::1%eth0");
}

}  // namespace
}  // namespace kit::net
