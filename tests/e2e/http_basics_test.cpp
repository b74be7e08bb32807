// End-to-end: the real binary on a free port — probes, routing errors, limits, headers.
#include <gtest/gtest.h>

#include <regex>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/service_process.hpp"

namespace e2e {
namespace {

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

void expect_security_headers(const HttpResponse& res) {
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["X-Frame-Options"], "DENY");
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(res["Content-Security-Policy"], "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(res["Cache-Control"], "no-store");
  EXPECT_EQ(res.find(boost::beast::http::field::server), res.end()) << "no Server header";
  EXPECT_FALSE(res["X-Request-ID"].empty());
}

void expect_envelope(const HttpResponse& res, unsigned status, const std::string& code,
                     const std::string& request_id = "") {
  EXPECT_EQ(res.result_int(), status);
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json; charset=utf-8");
  auto doc = parse_json(res.body());
  EXPECT_EQ(str(doc, "error"), code) << res.body();
  EXPECT_NE(str(doc, "message"), "<missing>");
  EXPECT_EQ(str(doc, "request_id"), std::string(res["X-Request-ID"]));
  if (!request_id.empty()) {
    EXPECT_EQ(str(doc, "request_id"), request_id);
  }
  expect_security_headers(res);
}

class HttpBasics : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_ = new ServiceProcess(test_env({{"MAX_BODY_BYTES", "1000"}}));
  }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
  }
  static unsigned short port() { return service_->port(); }
  static ServiceProcess* service_;
};
ServiceProcess* HttpBasics::service_ = nullptr;

TEST_F(HttpBasics, LiveAnswersAliveWithSecurityHeaders) {
  const auto res = get(port(), "/health/live");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"status":"alive"})");
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json; charset=utf-8");
  expect_security_headers(res);
  EXPECT_TRUE(std::regex_match(std::string(res["X-Request-ID"]), kUuid));
  EXPECT_EQ(res.find(boost::beast::http::field::strict_transport_security), res.end())
      << "HSTS only in production";
}

TEST_F(HttpBasics, TrailingSlashIsTheSameRoute) {
  const auto res = get(port(), "/health/live/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"status":"alive"})");
}

TEST_F(HttpBasics, ReadyWithoutChecksIsReady) {
  const auto res = get(port(), "/health/ready");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  auto doc = parse_json(res.body());
  EXPECT_EQ(str(doc, "status"), "ready");
  ASSERT_TRUE(doc.HasMember("checks"));
  EXPECT_TRUE(doc["checks"].IsObject());
}

TEST_F(HttpBasics, HeadHasHeadersButNoBody) {
  Connection c(port());
  c.send(
      "HEAD /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto head = c.read_response(true);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[boost::beast::http::field::content_length], "18");
  // If HEAD had sent a body, it would be read as the start of the next response and break it.
  const auto next = c.read_response();
  EXPECT_EQ(next.body(), R"({"status":"alive"})");
}

TEST_F(HttpBasics, UnknownRouteIs404EnvelopeWithTheSentRequestId) {
  const auto res = get(port(), "/nope", {{"X-Request-ID", "abc-123"}});
  expect_envelope(res, 404, "NOT_FOUND", "abc-123");
  EXPECT_EQ(res["X-Request-ID"], "abc-123");
}

TEST_F(HttpBasics, WrongMethodIs405WithAllow) {
  const auto res = request(port(), {"DELETE", "/health/live", {{"X-Request-ID", "req.405:x"}}, ""});
  expect_envelope(res, 405, "METHOD_NOT_ALLOWED", "req.405:x");
  EXPECT_EQ(res[boost::beast::http::field::allow], "GET, HEAD");
}

TEST_F(HttpBasics, InvalidRequestIdIsReplaced) {
  for (const std::string& bad : {std::string("has space"), std::string(129, 'a'),
                                 std::string("semi;colon"), std::string("\xc3\xa9")}) {
    const auto res = get(port(), "/health/live", {{"X-Request-ID", bad}});
    EXPECT_TRUE(std::regex_match(std::string(res["X-Request-ID"]), kUuid)) << bad;
  }
  const std::string longest(128, 'Z');
  EXPECT_EQ(get(port(), "/health/live", {{"X-Request-ID", longest}})["X-Request-ID"], longest);
}

TEST_F(HttpBasics, BodyOverTheLimitIs413) {
  const auto res =
      request(port(), {"POST", "/health/live", {{"X-Request-ID", "big"}}, std::string(1001, 'x')});
  expect_envelope(res, 413, "PAYLOAD_TOO_LARGE", "big");
}

TEST_F(HttpBasics, ChunkedBodyOverTheLimitIs413) {
  Connection c(port());
  std::string chunk(600, 'y');
  c.send("POST /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
         chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
  expect_envelope(c.read_response(), 413, "PAYLOAD_TOO_LARGE");
}

TEST_F(HttpBasics, BodyAtTheLimitIsRead) {
  // 1000 bytes is allowed: the route answers (405, since POST is not a method of it).
  const auto res = request(port(), {"POST", "/health/live", {}, std::string(1000, 'x')});
  expect_envelope(res, 405, "METHOD_NOT_ALLOWED");
}

TEST_F(HttpBasics, HeadersOver16KiBAre431) {
  const auto res = get(port(), "/health/live", {{"X-Filler", std::string(17 * 1024, 'h')}});
  EXPECT_EQ(res.result_int(), 431);
  auto doc = parse_json(res.body());
  EXPECT_EQ(str(doc, "error"), "HEADERS_TOO_LARGE");
  expect_security_headers(res);
}

TEST_F(HttpBasics, MalformedRequestIs400) {
  Connection c(port());
  c.send("GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n");
  expect_envelope(c.read_response(), 400, "BAD_REQUEST");
}

TEST_F(HttpBasics, ContentLengthWithTransferEncodingIsRejected) {
  Connection c(port());
  c.send(
      "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 400);
}

TEST_F(HttpBasics, KeepAliveServesManyRequestsOnOneConnection) {
  Connection c(port());
  for (int i = 0; i < 5; ++i) {
    c.send("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: k" + std::to_string(i) +
           "\r\n\r\n");
    const auto res = c.read_response();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res["X-Request-ID"], "k" + std::to_string(i));
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST_F(HttpBasics, PipelinedRequestsAreAnsweredInOrder) {
  Connection c(port());
  std::string batch;
  for (int i = 0; i < 10; ++i) {
    const char* target = i % 3 == 0 ? "/nope" : "/health/live";
    batch += std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\nX-Request-ID: p" +
             std::to_string(i) + "\r\n\r\n";
  }
  c.send(batch);
  for (int i = 0; i < 10; ++i) {
    const auto res = c.read_response();
    EXPECT_EQ(res["X-Request-ID"], "p" + std::to_string(i));
    EXPECT_EQ(res.result_int(), i % 3 == 0 ? 404 : 200);
  }
}

TEST_F(HttpBasics, ExpectContinueIsHonoured) {
  Connection c(port());
  c.send(
      "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  const auto interim = c.read_response(true);
  EXPECT_EQ(interim.result_int(), 100);
  c.send("abcd");
  EXPECT_EQ(c.read_response().result_int(), 405);
}

TEST_F(HttpBasics, Http10ClosesAfterTheResponse) {
  Connection c(port());
  c.send("GET /health/live HTTP/1.0\r\n\r\n");
  const auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(5)));
}

}  // namespace
}  // namespace e2e
