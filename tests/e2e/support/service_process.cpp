#include "support/service_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <regex>
#include <stdexcept>

namespace e2e {
namespace {

struct Spawned {
  pid_t pid;
  int out_fd;
  int err_fd;
  int in_fd;
};

Spawned spawn(const std::vector<std::string>& args, const Env& env) {
  int out[2], err[2], in[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> argv_s{USER_SERVICE_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A test that crashes must not leave its service running: die with the test process.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(in[0]);
  return {pid, out[0], err[0], in[1]};
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Env test_env(Env extra) {
  Env env{{"PATH", "/usr/bin:/bin"},
          {"ENV_FILE", "/nonexistent/.env"},
          {"ENVIRONMENT", "development"},
          {"HOST", "127.0.0.1"},
          {"PORT", "0"},
          {"WORKERS", "2"},
          {"DATABASE_URL", "sqlite://:memory:"},
          {"JWT_SECRET", "e2e-test-secret-that-is-long-enough-0123456789"},
          {"PASSWORD_HASH_MEMORY_KIB", "8"},
          {"PASSWORD_HASH_ITERATIONS", "1"},
          // The suite registers and signs in many users from 127.0.0.1; the `auth` policy's
          // own tests set a small limit.
          {"LOGIN_RATE_LIMIT_PER_MINUTE", "1000000"},
          {"LOG_LEVEL", "info"}};
  // scripts/tsan.sh points TSAN_OPTIONS at a report folder: the service's races count too.
  if (const char* tsan = std::getenv("TSAN_OPTIONS")) env["TSAN_OPTIONS"] = tsan;
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

CommandResult run_command(const std::vector<std::string>& args, const Env& env,
                          std::chrono::milliseconds timeout, const std::string& stdin_data) {
  Spawned s = spawn(args, env);
  if (!stdin_data.empty()) {
    [[maybe_unused]] auto n = write(s.in_fd, stdin_data.data(), stdin_data.size());
  }
  close(s.in_fd);
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{s.out_fd, POLLIN, 0}, {s.err_fd, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0 && std::chrono::steady_clock::now() < deadline) {
    if (poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(s.pid, &status, WNOHANG) == s.pid) {
      result.exit_code = decode_status(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (result.exit_code == -1) {
    kill(s.pid, SIGKILL);
    waitpid(s.pid, &status, 0);
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  return result;
}

ServiceProcess::ServiceProcess(Env env, std::vector<std::string> args) {
  Spawned s = spawn(args, env);
  close(s.in_fd);
  pid_ = s.pid;
  out_thread_ = std::thread([this, fd = s.out_fd] { reader(fd, true); });
  err_thread_ = std::thread([this, fd = s.err_fd] { reader(fd, false); });
  const auto line = wait_for_line(
      [](const std::string& l) {
        return l.find("\"event\":\"service_started\"") != std::string::npos ||
               l.find("\"event\":\"startup_failed\"") != std::string::npos;
      },
      std::chrono::seconds(30));
  std::smatch m;
  static const std::regex port_re("\"port\":([0-9]+)");
  if (!line || !std::regex_search(*line, m, port_re)) {
    kill(pid_, SIGKILL);
    throw std::runtime_error("service did not start; stderr: " + stderr_text() +
                             (line ? " line: " + *line : ""));
  }
  port_ = static_cast<unsigned short>(std::stoi(m[1]));
}

ServiceProcess::~ServiceProcess() {
  if (!exit_code_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
}

void ServiceProcess::signal(int signo) const {
  kill(pid_, signo);
}

std::optional<int> ServiceProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = decode_status(status);
      if (out_thread_.joinable()) out_thread_.join();
      if (err_thread_.joinable()) err_thread_.join();
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

void ServiceProcess::reader(int fd, bool is_stdout) {
  std::string pending;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    if (!is_stdout) {
      err_text_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t pos;
    while ((pos = pending.find('\n')) != std::string::npos) {
      out_lines_.push_back(pending.substr(0, pos));
      pending.erase(0, pos + 1);
    }
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mu_);
  if (!pending.empty()) out_lines_.push_back(pending);
  cv_.notify_all();
}

std::vector<std::string> ServiceProcess::lines() const {
  std::lock_guard lock(mu_);
  return out_lines_;
}

std::string ServiceProcess::stderr_text() const {
  std::lock_guard lock(mu_);
  return err_text_;
}

std::optional<std::string> ServiceProcess::wait_for_line(
    const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  std::size_t checked = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (; checked < out_lines_.size(); ++checked) {
      if (pred(out_lines_[checked])) return out_lines_[checked];
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; checked < out_lines_.size(); ++checked) {
        if (pred(out_lines_[checked])) return out_lines_[checked];
      }
      return std::nullopt;
    }
  }
}

}  // namespace e2e
