#pragma once
// A test server written in Python (tests/support/*.py) run as a child process: it prints its
// port on the first line of stdout; SIGTERM stops it when the object goes. And a CA with a
// certificate for 127.0.0.1 made by the openssl command, for the TLS variants.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

class ScriptServer {
 public:
  // `script` is a file name under tests/support/.
  ScriptServer(const std::string& script, const std::vector<std::string>& args) {
    // Appended in place: GCC 12 warns falsely (-Warray-bounds) on a chain of operator+ here.
    std::string path(USER_SERVICE_SOURCE_DIR);
    path.append("/tests/support/").append(script);
    std::vector<std::string> argv_text{"python3", std::move(path)};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      execv("/usr/bin/python3", argv.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[32] = {};
    const bool got = out != nullptr && std::fgets(line, sizeof line, out) != nullptr;
    if (out != nullptr) std::fclose(out);
    if (!got) {
      stop();
      throw std::runtime_error(script + " did not start");
    }
    port_ = std::stoi(line);
  }
  ScriptServer(const ScriptServer&) = delete;
  ScriptServer& operator=(const ScriptServer&) = delete;
  ~ScriptServer() { stop(); }

  int port() const noexcept { return port_; }

 private:
  void stop() noexcept {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  pid_t pid_ = -1;
  int port_ = 0;
};

// ca.pem/ca.key and server.pem/server.key (for 127.0.0.1 and localhost) in `dir`.
inline void make_test_certificates(const std::string& dir) {
  const auto run = [](const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
      throw std::runtime_error("failed: " + command);
    }
  };
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

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace test_support
