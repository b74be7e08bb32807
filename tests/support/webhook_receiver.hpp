#pragma once
// The webhook receiver of the outbox tests (tests/support/webhook_receiver.mjs: every call
// verified by the npm package `standardwebhooks`, see docs/events.md) run as a child process:
// `node webhook_receiver.mjs --secret S --port 0 --exit-on-stdin-close`, its port read from the
// first line of its stdout, its state and failure modes reached over its /_control routes with a
// small blocking HTTP client. Every wait is bounded. The child is stopped by its PID when the
// object goes; it also exits when this process dies, because its stdin (our pipe) then closes.
// Needs `npm ci` in tests/browser (scripts/test.sh runs it) and `node` on PATH.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace test_support {

namespace webhook_detail {

using Clock = std::chrono::steady_clock;

inline int ms_left(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

// Waits for `events` on `fd` until `deadline`; false on timeout.
inline bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const int left = ms_left(deadline);
    if (left == 0) return false;
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, left);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) throw std::runtime_error("poll failed");
  }
}

class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// One request on a new connection to 127.0.0.1:port (Connection: close, so the answer ends at
// EOF and no chunked decoding is needed); throws on a timeout or a broken answer.
inline HttpAnswer http_call(int port, std::string_view method, std::string_view target,
                            std::string_view body, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Fd sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (sock.get() < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<unsigned short>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) throw std::runtime_error("connect failed");
    if (!wait_fd(sock.get(), POLLOUT, deadline)) throw std::runtime_error("connect timed out");
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) throw std::runtime_error(std::string("connect failed: ") + strerror(error));
  }
  std::string request(method);
  request.append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1:");
  request.append(std::to_string(port)).append("\r\nConnection: close\r\n");
  if (!body.empty()) request.append("Content-Type: application/json\r\n");
  request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  request.append(body);
  for (std::size_t sent = 0; sent < request.size();) {
    if (!wait_fd(sock.get(), POLLOUT, deadline)) throw std::runtime_error("send timed out");
    const ssize_t n = send(sock.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw std::runtime_error("send failed");
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buf[16384];
  for (;;) {
    if (!wait_fd(sock.get(), POLLIN, deadline)) throw std::runtime_error("answer timed out");
    const ssize_t n = recv(sock.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw std::runtime_error("recv failed");
    if (n > 0) answer.append(buf, static_cast<std::size_t>(n));
  }
  const auto head_end = answer.find("\r\n\r\n");
  if (!answer.starts_with("HTTP/1.1 ") || head_end == std::string::npos || answer.size() < 12) {
    throw std::runtime_error("not an HTTP answer: " + answer.substr(0, 200));
  }
  return HttpAnswer{std::stoi(answer.substr(9, 3)), answer.substr(head_end + 4)};
}

// A node script of tests/support (a receiver) run as a child: its port read from the first line of
// its stdout, stopped by PID (SIGTERM, then SIGKILL after `stop_timeout`). It also exits when our
// end of its stdin closes (--exit-on-stdin-close), so a crashed test leaves no receiver behind.
class NodeProcess {
 public:
  // `name` names it in errors; `args` follow the script's path.
  NodeProcess(std::string name, const std::string& script, std::vector<std::string> args,
              std::chrono::milliseconds start_timeout, std::chrono::milliseconds stop_timeout)
      : name_(std::move(name)), stop_timeout_(stop_timeout) {
    start(script, std::move(args), start_timeout);
  }
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;
  ~NodeProcess() { stop(); }

  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  void stop() noexcept {
    stdin_.reset();
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = Clock::now() + stop_timeout_;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);  // SIGKILL cannot be ignored: this returns at once
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

 private:
  void start(const std::string& script_name, std::vector<std::string> extra,
             std::chrono::milliseconds start_timeout) {
    const std::string script =
#ifdef USER_SERVICE_SOURCE_DIR
        std::string(USER_SERVICE_SOURCE_DIR) + "/tests/support/" + script_name;
#else
        "tests/support/" + script_name;
#endif
    std::vector<std::string> args{"node", script};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--port", "0", "--exit-on-stdin-close"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Close-on-exec, so children other threads start meanwhile do not inherit our ends (an
    // inherited stdin end would keep the receiver alive after this process dies).
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(in[0]);
      close(in[1]);
      throw std::runtime_error("pipe2 failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const int rc = posix_spawnp(&pid_, "node", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    stdin_.reset(in[1]);
    Fd stdout_pipe(out[0]);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error(name_ + ": cannot run node: " + strerror(rc));
    }
    std::string line;
    const auto deadline = Clock::now() + start_timeout;
    while (line.find('\n') == std::string::npos) {
      if (!wait_fd(stdout_pipe.get(), POLLIN, deadline)) {
        stop();
        throw std::runtime_error(name_ + ": no port within the start timeout");
      }
      char buf[64];
      const ssize_t n = read(stdout_pipe.get(), buf, sizeof buf);
      if (n == 0) {
        stop();
        throw std::runtime_error(
            name_ +
            " did not start (its error is on stderr; is "
            "tests/browser/node_modules installed? `npm ci` in tests/browser)");
      }
      if (n > 0) line.append(buf, static_cast<std::size_t>(n));
      if (n < 0 && errno != EINTR && errno != EAGAIN) {
        stop();
        throw std::runtime_error(name_ + ": reading its port failed");
      }
    }
    try {
      port_ = std::stoi(line);
    } catch (const std::exception&) {
      stop();
      throw std::runtime_error(name_ + " printed no port: " + line);
    }
  }

  std::string name_;
  std::chrono::milliseconds stop_timeout_;
  pid_t pid_ = -1;
  int port_ = 0;
  Fd stdin_;
};

}  // namespace webhook_detail

// `whsec_` and the base64 of 32 random bytes, the form docs/events.md asks for.
inline std::string random_webhook_secret() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::random_device rd;
  unsigned char key[32];
  for (auto& b : key) b = static_cast<unsigned char>(rd());
  std::string out = "whsec_";
  // 32 bytes: ten 3-byte groups, then the last 2 bytes as three characters and one '='.
  for (int i = 0; i < 32; i += 3) {
    const unsigned v = (key[i] << 16) | (key[i + 1] << 8) | (i + 2 < 32 ? key[i + 2] : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += i + 2 < 32 ? kAlphabet[v & 63] : '=';
  }
  return out;
}

class WebhookReceiver {
 public:
  struct Options {
    std::chrono::milliseconds start_timeout{20'000};    // node's start on a loaded machine
    std::chrono::milliseconds request_timeout{10'000};  // one control call
    std::chrono::milliseconds stop_timeout{5'000};      // after SIGTERM, then SIGKILL
  };

  explicit WebhookReceiver(std::string secret) : WebhookReceiver(std::move(secret), Options{}) {}
  WebhookReceiver(std::string secret, Options options)
      : secret_(std::move(secret)),
        options_(options),
        process_("webhook receiver", "webhook_receiver.mjs", {"--secret", secret_},
                 options.start_timeout, options.stop_timeout) {}
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;
  ~WebhookReceiver() = default;

  int port() const noexcept { return process_.port(); }
  pid_t pid() const noexcept { return process_.pid(); }
  const std::string& secret() const noexcept { return secret_; }
  // http://127.0.0.1:PORT/hooks, or another path under /hooks (one receiver, several
  // destinations: each call's record names its path).
  std::string url(std::string_view path = "/hooks") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

  // GET /_control/state: the raw JSON (accepted records, attempts, failed_answers, invalid,
  // duplicates_by_id, concurrent_same_id, ...; see webhook_receiver.mjs).
  std::string state() const { return expect(200, "GET", "/_control/state", {}).body; }

  // POST /_control/mode with e.g. {"mode":"fail"}, {"mode":"fail_n","n":3},
  // {"mode":"slow","ms":2000}, {"mode":"ok"}; throws unless the receiver took it.
  void set_mode(std::string_view json) const { expect(204, "POST", "/_control/mode", json); }

  // POST /_control/reset: forgets every record and counter, back to mode ok.
  void reset() const { expect(204, "POST", "/_control/reset", {}); }

  struct Waited {
    bool reached = false;
    std::string state;  // the JSON state when it returned
  };
  // Until `count` calls are accepted, at most `timeout`: the receiver answers as soon as they
  // are (GET /_control/wait), so this neither polls nor sleeps longer than needed.
  Waited wait_for_accepted(std::size_t count, std::chrono::milliseconds timeout) const {
    const auto deadline = webhook_detail::Clock::now() + timeout;
    for (;;) {
      const int left = webhook_detail::ms_left(deadline);  // at most 60 s, the route's cap
      const auto answer = call("GET",
                               "/_control/wait?accepted=" + std::to_string(count) +
                                   "&timeout_ms=" + std::to_string(left),
                               {}, std::chrono::milliseconds(left) + options_.request_timeout);
      if (answer.status == 200) return {true, answer.body};
      if (answer.status != 408) {
        throw std::runtime_error("webhook receiver: wait answered " +
                                 std::to_string(answer.status));
      }
      if (webhook_detail::ms_left(deadline) == 0) return {false, answer.body};
    }
  }

 private:
  webhook_detail::HttpAnswer call(std::string_view method, const std::string& target,
                                  std::string_view body, std::chrono::milliseconds timeout) const {
    return webhook_detail::http_call(port(), method, target, body, timeout);
  }
  webhook_detail::HttpAnswer expect(int status, std::string_view method, const std::string& target,
                                    std::string_view body) const {
    auto answer = call(method, target, body, options_.request_timeout);
    if (answer.status != status) {
      throw std::runtime_error("webhook receiver: " + std::string(method) + " " + target +
                               " answered " + std::to_string(answer.status) + ": " + answer.body);
    }
    return answer;
  }

  std::string secret_;
  Options options_;
  webhook_detail::NodeProcess process_;
};

}  // namespace test_support
