// ClientIp (TRUSTED_PROXIES in docs/configuration.md): X-Forwarded-For is believed only from
// trusted peers, and then only up to the right-most untrusted hop.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>
#include <vector>

#include "kit/http/response.hpp"
#include "kit/middleware/client_ip.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

using kit::middleware::resolve_client_ip;
using kit::net::Cidr;

std::vector<Cidr> cidrs(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  for (const char* t : texts) out.push_back(*Cidr::parse(t));
  return out;
}

std::string resolve(std::string_view peer, std::vector<std::string_view> xff,
                    const std::vector<Cidr>& trusted) {
  return resolve_client_ip(peer, xff, trusted);
}

const auto kProxies = cidrs({"10.0.0.0/8", "127.0.0.1"});

TEST(ClientIp, UntrustedPeerIgnoresForwardedFor) {
  EXPECT_EQ(resolve("203.0.113.9", {"1.2.3.4"}, kProxies), "203.0.113.9");
  EXPECT_EQ(resolve("203.0.113.9", {"1.2.3.4"}, {}), "203.0.113.9");
  EXPECT_EQ(resolve("10.1.1.1", {"1.2.3.4"}, {}), "10.1.1.1");  // nothing trusted at all
}

TEST(ClientIp, TrustedPeerUsesRightMostUntrustedHop) {
  EXPECT_EQ(resolve("10.0.0.5", {"198.51.100.7"}, kProxies), "198.51.100.7");
  // The client prepended a forged entry; the proxy appended the real address.
  EXPECT_EQ(resolve("10.0.0.5", {"6.6.6.6, 198.51.100.7"}, kProxies), "198.51.100.7");
  // Chains of trusted proxies are skipped.
  EXPECT_EQ(resolve("10.0.0.5", {"6.6.6.6, 198.51.100.7, 10.2.3.4, 127.0.0.1"}, kProxies),
            "198.51.100.7");
  // Several header lines are one list, in order.
  EXPECT_EQ(resolve("10.0.0.5", {"6.6.6.6", "198.51.100.7, 10.9.9.9"}, kProxies), "198.51.100.7");
}

TEST(ClientIp, AllTrustedGivesLeftMost) {
  EXPECT_EQ(resolve("10.0.0.5", {"10.0.0.1, 10.0.0.2"}, kProxies), "10.0.0.1");
}

TEST(ClientIp, NoHeaderOrGarbageKeepsLastGoodAddress) {
  EXPECT_EQ(resolve("10.0.0.5", {}, kProxies), "10.0.0.5");
  EXPECT_EQ(resolve("10.0.0.5", {"not-an-ip"}, kProxies), "10.0.0.5");
  EXPECT_EQ(resolve("10.0.0.5", {"1.2.3.4, garbage, 10.0.0.7"}, kProxies), "10.0.0.7");
  EXPECT_EQ(resolve("10.0.0.5", {" , ,198.51.100.7 , "}, kProxies), "198.51.100.7");
}

TEST(ClientIp, AcceptsPortsBracketsAndIpv6) {
  EXPECT_EQ(resolve("10.0.0.5", {"198.51.100.7:4711"}, kProxies), "198.51.100.7");
  EXPECT_EQ(resolve("10.0.0.5", {"[2001:db8::1]:443"}, kProxies), "2001:db8::1");
  EXPECT_EQ(resolve("10.0.0.5", {"2001:db8::1"}, kProxies), "2001:db8::1");
  // A dual-stack listener reports IPv4 peers as mapped IPv6: they match IPv4 networks and are
  // shown as IPv4, so one client has one rate-limit key.
  EXPECT_EQ(resolve("::ffff:10.0.0.5", {"198.51.100.7"}, kProxies), "198.51.100.7");
  EXPECT_EQ(resolve("::ffff:203.0.113.9", {"1.2.3.4"}, kProxies), "203.0.113.9");
}

TEST(ClientIp, BoundsTheNumberOfHops) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "10.0.0." + std::to_string(i % 250) + ",";
  many += "10.0.0.1";
  const std::string got = resolve("10.0.0.5", {many}, kProxies);
  EXPECT_EQ(got.rfind("10.0.0.", 0), 0u);  // stopped after kMaxForwardedHops, no crash
}

TEST(ClientIp, MiddlewareSetsContext) {
  kit::middleware::ClientIp mw(kProxies);
  kit::http::Pipeline pipeline;
  pipeline.use(std::make_shared<kit::middleware::ClientIp>(kProxies));
  kit::http::Request req{kit::http::Verb::get, "/", 11};
  req.insert("X-Forwarded-For", "6.6.6.6");
  req.insert("X-Forwarded-For", "198.51.100.7");
  kit::http::RequestContext ctx;
  ctx.client_ip = "10.0.0.5";
  std::string seen;
  const kit::http::Handler terminal =
      [&seen](kit::http::Request&,
              kit::http::RequestContext& c) -> boost::asio::awaitable<kit::http::Response> {
    seen = c.client_ip;
    co_return kit::http::json_response(kit::http::Status::ok, "{}");
  };
  test_support::run_coroutine(pipeline.handle(req, ctx, terminal));
  EXPECT_EQ(seen, "198.51.100.7");
}

}  // namespace
