#include "kit/net/cidr.hpp"

#include <gtest/gtest.h>

namespace kit::net {
namespace {

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

Cidr cidr(const char* text) {
  auto c = Cidr::parse(text);
  EXPECT_TRUE(c.has_value()) << text;
  return c.value_or(*Cidr::parse("255.255.255.255/32"));
}

TEST(Cidr, ParsesIpv4) {
  const auto c = cidr("10.0.0.0/8");
  EXPECT_EQ(c.to_string(), "10.0.0.0/8");
  EXPECT_EQ(c.prefix_length(), 8u);
  EXPECT_TRUE(c.network().is_v4());
}

TEST(Cidr, ParsesIpv6) {
  EXPECT_EQ(cidr("::1/128").to_string(), "::1/128");
  EXPECT_EQ(cidr("2001:db8::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(cidr("::/0").to_string(), "::/0");
}

TEST(Cidr, BareAddressIsAHost) {
  EXPECT_EQ(cidr("192.168.1.7").to_string(), "192.168.1.7/32");
  EXPECT_EQ(cidr("::1").to_string(), "::1/128");
  EXPECT_EQ(cidr(" 10.1.2.3 ").to_string(), "10.1.2.3/32");
}

TEST(Cidr, HostBitsAreCleared) {
  EXPECT_EQ(cidr("10.1.2.3/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(cidr("192.168.1.130/25").to_string(), "192.168.1.128/25");
  EXPECT_EQ(cidr("2001:db8::1/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(cidr("10.0.0.1/0").to_string(), "0.0.0.0/0");
}

TEST(Cidr, MappedNetworksBecomeIpv4) {
  EXPECT_EQ(cidr("::ffff:10.0.0.0/104").to_string(), "10.0.0.0/8");
  EXPECT_EQ(cidr("::ffff:10.1.2.3").to_string(), "10.1.2.3/32");
}

TEST(Cidr, RefusesMalformedInput) {
  for (const auto* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
                          "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0", "10.0.0.256", "localhost", "*",
                          "10.0.0.0/abc", "fe80::1%eth0", "1.2.3.4 /8", "10.0.0.0/0008", "::g"})
    EXPECT_FALSE(Cidr::parse(bad).has_value()) << bad;
}

TEST(Cidr, ContainsIpv4) {
  const auto c = cidr("10.0.0.0/8");
  EXPECT_TRUE(c.contains(ip("10.0.0.0")));
  EXPECT_TRUE(c.contains(ip("10.255.255.255")));
  EXPECT_FALSE(c.contains(ip("11.0.0.0")));
  EXPECT_FALSE(c.contains(ip("9.255.255.255")));
  const auto odd = cidr("172.16.0.0/12");
  EXPECT_TRUE(odd.contains(ip("172.31.255.255")));
  EXPECT_FALSE(odd.contains(ip("172.32.0.0")));
}

TEST(Cidr, HostAndEverything) {
  EXPECT_TRUE(cidr("127.0.0.1").contains(ip("127.0.0.1")));
  EXPECT_FALSE(cidr("127.0.0.1").contains(ip("127.0.0.2")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
}

TEST(Cidr, ContainsIpv6) {
  const auto c = cidr("2001:db8::/32");
  EXPECT_TRUE(c.contains(ip("2001:db8::1")));
  EXPECT_TRUE(c.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(c.contains(ip("2001:db9::")));
  EXPECT_FALSE(c.contains(ip("10.0.0.1")));
  EXPECT_TRUE(cidr("::1").contains(ip("::1")));
  EXPECT_FALSE(cidr("::1").contains(ip("127.0.0.1")));
  const auto odd = cidr("fd00::/7");
  EXPECT_TRUE(odd.contains(ip("fc00::1")));
  EXPECT_TRUE(odd.contains(ip("fdff::1")));
  EXPECT_FALSE(odd.contains(ip("fe00::1")));
}

TEST(Cidr, MappedAddressesMatchIpv4Networks) {
  // What a dual-stack (::) listener reports for an IPv4 client.
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
  EXPECT_TRUE(cidr("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
  // A network written in mapped form matches both spellings of the client.
  EXPECT_TRUE(cidr("::ffff:10.0.0.0/104").contains(ip("10.9.9.9")));
  EXPECT_TRUE(cidr("::ffff:10.0.0.0/104").contains(ip("::ffff:10.9.9.9")));
}

TEST(Cidr, WideIpv6NetworksHoldMappedAddresses) {
  EXPECT_TRUE(cidr("::/0").contains(ip("2001:db8::1")));
  EXPECT_TRUE(cidr("::/0").contains(ip("10.0.0.1")));
  EXPECT_TRUE(cidr("::ffff:0:0/96").contains(ip("10.0.0.1")));  // stored as 0.0.0.0/0
}

TEST(Cidr, Equality) {
  EXPECT_EQ(cidr("10.1.2.3/8"), cidr("10.0.0.0/8"));
  EXPECT_NE(cidr("10.0.0.0/8"), cidr("10.0.0.0/16"));
}

}  // namespace
}  // namespace kit::net
