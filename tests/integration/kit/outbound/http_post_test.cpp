// kit::outbound::post against a real receiver (tests/support/http_receiver.py, Python's
// http.server) over plain HTTP and over TLS with a CA made for the test by the openssl
// command (tests/support/script_server.hpp): what arrives, status and body handling,
// certificate verification, timeouts, and HttpClient's kept connection.
#include "kit/outbound/http_post.hpp"

#include <rapidjson/document.h>

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/script_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using kit::outbound::HttpClient;
using kit::outbound::HttpOptions;
using kit::outbound::OutboundError;
using kit::outbound::post;

// The receiver: tests/support/http_receiver.py, over TLS when given a certificate.
class Receiver {
 public:
  explicit Receiver(const std::string& log_file, const std::string& cert = {},
                    const std::string& key = {})
      : server_("http_receiver.py", cert.empty() ? std::vector<std::string>{log_file}
                                                 : std::vector<std::string>{log_file, cert, key}) {}
  std::string url(const std::string& scheme, const std::string& path) const {
    std::string out = scheme;
    out.append("://127.0.0.1:").append(std::to_string(server_.port())).append(path);
    return out;
  }

 private:
  test_support::ScriptServer server_;
};

class HttpPost : public testing::Test {
 protected:
  // The client port of every request the receiver logged, in order.
  std::vector<int> client_ports() const {
    std::vector<int> out;
    std::istringstream lines(test_support::read_text_file(log_));
    for (std::string line; std::getline(lines, line);) {
      rapidjson::Document d;
      d.Parse(line.c_str(), line.size());
      if (!d.HasParseError() && d.HasMember("client_port"))
        out.push_back(d["client_port"].GetInt());
    }
    return out;
  }

  sqlite_test::TempDir dir_;
  std::string log_ = dir_.path().string() + "/requests.jsonl";
};

TEST_F(HttpPost, SendsTheBodyAndHeadersAndReturnsTheAnswer) {
  Receiver receiver(log_);
  const std::string body = R"({"to":"a@example.com","subject":"Zoë"})";
  const auto res = post({}, receiver.url("http", "/accept"),
                        {{"Content-Type", "application/json"}, {"Idempotency-Key", "evt-1"}}, body);
  EXPECT_EQ(res.status, 202);
  EXPECT_TRUE(res.success());
  EXPECT_EQ(res.body, "accepted");
  EXPECT_FALSE(res.truncated);
  const std::string seen = test_support::read_text_file(log_);
  EXPECT_NE(seen.find(R"("path": "/accept")"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("content-type": "application/json")"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("idempotency-key": "evt-1")"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("user-agent": "user-service")"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Zo\\u00eb"), std::string::npos) << seen;
}

TEST_F(HttpPost, AnyStatusIsAnAnswerAndRedirectsAreNotFollowed) {
  Receiver receiver(log_);
  for (const long status : {200L, 400L, 429L, 500L, 503L}) {
    const auto res = post({}, receiver.url("http", "/status/" + std::to_string(status)), {}, "{}");
    EXPECT_EQ(res.status, status);
    EXPECT_EQ(res.success(), status == 200);
  }
  EXPECT_EQ(post({}, receiver.url("http", "/redirect"), {}, "{}").status, 302);
  EXPECT_EQ(test_support::read_text_file(log_).find("/accept"),
            std::string::npos);  // never went there
}

TEST_F(HttpPost, ALongAnswerIsCutAtTheLimit) {
  Receiver receiver(log_);
  HttpOptions options;
  options.max_response_bytes = 1000;
  const auto res = post(options, receiver.url("http", "/big"), {}, "{}");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, std::string(1000, 'x'));
  EXPECT_TRUE(res.truncated);
}

TEST_F(HttpPost, HttpsVerifiesTheCertificate) {
  const std::string d = dir_.path().string();
  test_support::make_test_certificates(d);
  Receiver receiver(log_, d + "/server.pem", d + "/server.key");
  HttpOptions trusted;
  trusted.ca_file = d + "/ca.pem";
  EXPECT_EQ(post(trusted, receiver.url("https", "/accept"), {}, "{}").status, 202);
  // The system's CA store does not know the test CA: refused before anything is sent.
  EXPECT_THROW(post({}, receiver.url("https", "/accept"), {}, "{\"secret\":1}"), OutboundError);
  EXPECT_EQ(post(trusted, receiver.url("https", "/accept"), {}, "{}").status, 202);
  EXPECT_EQ(test_support::read_text_file(log_).find("secret"), std::string::npos);
}

TEST_F(HttpPost, AClientKeepsItsConnectionAndEachPostStartsAfresh) {
  Receiver receiver(log_);
  HttpClient client({});
  const auto first = client.post(receiver.url("http", "/accept"), {{"X-First", "1"}}, "one");
  const auto second = client.post(receiver.url("http", "/status/503"), {}, "two");
  const auto third = client.post(receiver.url("http", "/accept"), {}, "three");
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(first.body, "accepted");
  EXPECT_EQ(second.status, 503);
  EXPECT_EQ(second.body, "ok");
  EXPECT_EQ(third.status, 202);
  const std::string seen = test_support::read_text_file(log_);
  EXPECT_EQ(seen.find(R"("x-first")"), seen.rfind(R"("x-first")")) << seen;  // not carried over
  // One connection for all three; separate post() calls open one each.
  const std::vector<int> kept = client_ports();
  ASSERT_EQ(kept.size(), 3U) << seen;
  EXPECT_EQ(kept[0], kept[1]);
  EXPECT_EQ(kept[1], kept[2]);
  (void)post({}, receiver.url("http", "/accept"), {}, "four");
  (void)post({}, receiver.url("http", "/accept"), {}, "five");
  const std::vector<int> each = client_ports();
  ASSERT_EQ(each.size(), 5U) << seen;
  EXPECT_NE(each[3], each[2]);
  EXPECT_NE(each[4], each[3]);
}

TEST_F(HttpPost, FailuresAreOutboundErrorsWithoutTheUrl) {
  Receiver receiver(log_);
  HttpOptions quick;
  quick.total_timeout = std::chrono::milliseconds{300};
  for (const std::string& url :
       {receiver.url("http", "/slow"), std::string("http://user:hunter2@127.0.0.1:1/x"),
        std::string("ftp://127.0.0.1/x"), std::string("not a url")}) {
    try {
      (void)post(quick, url, {}, "{}");
      ADD_FAILURE() << "no error for " << url;
    } catch (const OutboundError& e) {
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
