// kit::outbound::post against a real receiver (tests/support/http_receiver.py, Python's
// http.server) over plain HTTP and over TLS with a CA made for the test by the openssl
// command: what arrives, status and body handling, certificate verification, timeouts.
#include "kit/outbound/http_post.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace {

using kit::outbound::HttpOptions;
using kit::outbound::OutboundError;
using kit::outbound::post;

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
    throw std::runtime_error("failed: " + command);
  }
}

// A CA, and a server certificate for 127.0.0.1 and localhost signed by it.
void make_certificates(const std::string& dir) {
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout " + dir +
      "/ca.key -out " + dir + "/ca.pem");
  run("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + dir +
      "/server.key -out " + dir + "/server.csr");
  {
    std::ofstream ext(dir + "/ext.cnf");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  run("openssl x509 -req -in " + dir + "/server.csr -CA " + dir + "/ca.pem -CAkey " + dir +
      "/ca.key -CAcreateserial -days 2 -extfile " + dir + "/ext.cnf -out " + dir + "/server.pem");
}

// The receiver as a child process; its port is the first line it prints.
class Receiver {
 public:
  Receiver(const std::string& log_file, const std::string& cert = {}, const std::string& key = {}) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      const std::string script =
          std::string(USER_SERVICE_SOURCE_DIR) + "/tests/support/http_receiver.py";
      if (cert.empty()) {
        execl("/usr/bin/python3", "python3", script.c_str(), log_file.c_str(), nullptr);
      } else {
        execl("/usr/bin/python3", "python3", script.c_str(), log_file.c_str(), cert.c_str(),
              key.c_str(), nullptr);
      }
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[32] = {};
    const bool got = out != nullptr && std::fgets(line, sizeof line, out) != nullptr;
    if (out != nullptr) std::fclose(out);
    if (!got) throw std::runtime_error("the receiver did not start");
    port_ = std::stoi(line);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::string url(const std::string& scheme, const std::string& path) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class HttpPost : public testing::Test {
 protected:
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
  const std::string seen = read_file(log_);
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
  EXPECT_EQ(read_file(log_).find("/accept"), std::string::npos);  // never went there
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
  make_certificates(d);
  Receiver receiver(log_, d + "/server.pem", d + "/server.key");
  HttpOptions trusted;
  trusted.ca_file = d + "/ca.pem";
  EXPECT_EQ(post(trusted, receiver.url("https", "/accept"), {}, "{}").status, 202);
  // The system's CA store does not know the test CA: refused before anything is sent.
  EXPECT_THROW(post({}, receiver.url("https", "/accept"), {}, "{\"secret\":1}"), OutboundError);
  EXPECT_EQ(post(trusted, receiver.url("https", "/accept"), {}, "{}").status, 202);
  EXPECT_EQ(read_file(log_).find("secret"), std::string::npos);
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
