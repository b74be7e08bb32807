#pragma once
// A private throwaway PostgreSQL cluster for tests that stop and restart the server (outage
// tests must not disturb the shared cluster other tests use). Driven by
// scripts/pg-test-server.sh with its own state folder; stopped and deleted on destruction.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "support/service_process.hpp"
#include "tests/support/server_script.hpp"

namespace e2e {

class PgCluster {
 public:
  PgCluster() : state_(make_state_dir()) {
    run("start");
    url_ = trim(run("url"));
    if (url_.rfind("postgresql://", 0) != 0) throw std::runtime_error("no cluster URL: " + url_);
  }
  ~PgCluster() {
    try {
      run("stop");
    } catch (...) {
    }
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  const std::string& url() const noexcept { return url_; }
  // The password inside the URL (the tests check it never leaks).
  std::string password() const {
    const auto colon = url_.find(':', 13);
    const auto at = url_.find('@');
    return url_.substr(colon + 1, at - colon - 1);
  }
  void halt() { run("halt"); }
  void resume() { run("resume"); }

 private:
  static std::string make_state_dir() {
    char tmpl[] = "/tmp/user-service-e2e-pg.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    return tmpl;
  }
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  std::string run(const std::string& verb) const {
    return test_support::run_server_script("pg-test-server.sh", "PG_TEST_STATE", state_, verb);
  }

  std::string state_;
  std::string url_;
};

// The shared cluster started by scripts/test.sh; tests fail (never skip) without it.
inline std::string shared_pg_url() {
  const char* url = std::getenv("USER_SERVICE_TEST_PG_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "USER_SERVICE_TEST_PG_URL is not set: run the suite with scripts/test.sh (make test), "
        "which starts a throwaway PostgreSQL");
  }
  return url;
}

}  // namespace e2e
