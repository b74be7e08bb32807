#pragma once
// Starts the real `user-service` binary for end-to-end tests: a clean environment plus the
// test's variables, PORT=0 on 127.0.0.1, stdout/stderr captured line by line. The bound port is
// read from the `service_started` log line. Stopped by PID (SIGKILL) if the test did not.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

using Env = std::map<std::string, std::string>;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the binary to completion with `args` and `env` (bounded by `timeout`).
CommandResult run_command(const std::vector<std::string>& args, const Env& env,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::string& stdin_data = "");

class ServiceProcess {
 public:
  // Starts `user-service serve` and waits for `service_started`; throws on failure.
  explicit ServiceProcess(Env env = {}, std::vector<std::string> args = {"serve"});
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  unsigned short port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  void signal(int signo) const;
  // Waits for exit; nullopt on timeout. Returns the exit code (128+signal when killed).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  // Log lines (stdout) seen so far.
  std::vector<std::string> lines() const;
  std::string stderr_text() const;
  // Waits until a stdout line satisfies `pred`; returns it, or nullopt on timeout.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& pred,
                                           std::chrono::milliseconds timeout) const;

 private:
  void reader(int fd, bool is_stdout);

  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::optional<int> exit_code_;
  std::thread out_thread_, err_thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> out_lines_;
  std::string err_text_;
};

// Base environment for tests: development, SQLite in memory, fast password hashing.
Env test_env(Env extra = {});

}  // namespace e2e
