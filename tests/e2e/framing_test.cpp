// End-to-end over raw sockets: chunk extensions and trailer sections are bounded by the header
// limit, trailer fields never become header fields, and HTTP/1.0 has no Transfer-Encoding.
#include <gtest/gtest.h>

#include <string>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/service_process.hpp"
#include "support/users_client.hpp"

namespace e2e {
namespace {

using std::chrono::seconds;

class Framing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { service_ = new ServiceProcess(test_env()); }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
  }
  static unsigned short port() { return service_->port(); }
  static ServiceProcess* service_;
};
ServiceProcess* Framing::service_ = nullptr;

constexpr const char* kChunkedGet =
    "GET /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n";

std::string error_code(const HttpResponse& res) {
  return str(parse_json(res.body()), "error");
}

TEST_F(Framing, UnendingChunkExtensionIs431AndCloses) {
  Connection c(port());
  // 20 KiB of extension and no end of line: the server must not wait for (and buffer) more.
  c.send(std::string(kChunkedGet) + "\r\n1;a=" + std::string(20 * 1024, 'a'));
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_EQ(error_code(res), "HEADERS_TOO_LARGE");
  EXPECT_TRUE(c.closed_by_peer(seconds(5)));
}

TEST_F(Framing, ExtensionsOfManyChunksCountTogether) {
  Connection c(port());
  // Each chunk line is complete and small; together they pass the 16 KiB limit.
  std::string body;
  for (int i = 0; i < 20; ++i) body += "1;e=" + std::string(1024, 'e') + "\r\nx\r\n";
  c.send(std::string(kChunkedGet) + "\r\n" + body + "0\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_TRUE(c.closed_by_peer(seconds(5)));
}

TEST_F(Framing, UnendingTrailerSectionIs431AndCloses) {
  Connection c(port());
  c.send(std::string(kChunkedGet) + "\r\n1\r\nx\r\n0\r\nX-Filler: " + std::string(20 * 1024, 't'));
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_TRUE(c.closed_by_peer(seconds(5)));
}

TEST_F(Framing, TrailerRequestIdIsRefusedAndNotEchoed) {
  Connection c(port());
  c.send(std::string(kChunkedGet) + "\r\n0\r\nX-Request-ID: from-trailer\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(error_code(res), "BAD_REQUEST");
  EXPECT_NE(res["X-Request-ID"], "from-trailer");
  EXPECT_TRUE(c.closed_by_peer(seconds(5)));
}

TEST_F(Framing, HeaderRequestIdIsKeptWhenTheTrailerIsRefused) {
  Connection c(port());
  c.send(
      "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: from-header\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\nX-Request-ID: from-trailer\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(res["X-Request-ID"], "from-header");
}

TEST_F(Framing, AuthorizationOnlyInTheTrailerIsRefused) {
  UsersClient users(port());
  const auto [id, token] = users.new_user("trailer-auth@example.com", "correct horse battery");
  ASSERT_FALSE(token.empty());
  Connection c(port());
  c.send(
      "GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nAuthorization: Bearer " +
      token + "\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 400) << res.body();
  EXPECT_EQ(res.body().find(id), std::string::npos);
}

TEST_F(Framing, ChunkExtensionsAndAnEmptyTrailerSectionAreAccepted) {
  Connection c(port());
  c.send(
      "POST /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: ok-chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n1;name=value\r\nx\r\n0;last=\"yes\"\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 405);  // the body was read; POST is not a method of the route
  EXPECT_EQ(res["X-Request-ID"], "ok-chunked");
}

TEST_F(Framing, TransferEncodingInHttp10Is400AndCloses) {
  Connection c(port());
  c.send(
      "POST /health/live HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(error_code(res), "BAD_REQUEST");
  EXPECT_TRUE(c.closed_by_peer(seconds(5)));
}

}  // namespace
}  // namespace e2e
