#pragma once
// Redis for the integration tests: the shared server started by scripts/test.sh
// (USER_SERVICE_TEST_REDIS_URL; tests FAIL, never skip, without it), and private servers for
// outage tests, driven by scripts/redis-test-server.sh with their own state folder.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "kit/config/redis_url.hpp"
#include "tests/support/server_script.hpp"

#include <optional>
#include <string_view>
#include <thread>

namespace redis_test {

inline std::string shared_url() {
  const char* url = std::getenv("USER_SERVICE_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "USER_SERVICE_TEST_REDIS_URL is not set: run the suite with scripts/test.sh (make test), "
        "which starts a throwaway Redis");
  }
  return url;
}

inline kit::config::RedisUrl shared() {
  return kit::config::parse_redis_url(shared_url());
}

class PrivateServer {
 public:
  PrivateServer() {
    char tmpl[] = "/tmp/user-service-it-redis.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    state_ = tmpl;
    url_ = trim(run("start"));
  }
  ~PrivateServer() {
    try {
      run("stop");
      std::string rm = "rm -rf '" + state_ + "'";
      (void)std::system(rm.c_str());
    } catch (...) {
    }
  }
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  const std::string& url() const noexcept { return url_; }
  kit::config::RedisUrl parsed() const { return kit::config::parse_redis_url(url_); }
  void halt() { run("halt"); }
  void resume() { run("resume"); }

 private:
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  std::string run(const std::string& verb) const {
    return test_support::run_server_script("redis-test-server.sh", "REDIS_TEST_STATE", state_,
                                           verb);
  }
  std::string state_;
  std::string url_;
};

// An I/O thread for the client under test; run() awaits one coroutine from the test thread.
class Loop {
 public:
  Loop()
      : guard_(boost::asio::make_work_guard(io_)), thread_([this] {
          io_.run();
          ran_out_.store(true);
        }) {}
  // A coroutine that hopped here from another loop may still be unwinding on that loop's thread
  // after its result reached the test: its frame holds this context's executor as tracked work.
  // Stopping at once let that thread touch a destroyed context (TSan), so the context first runs
  // until its work is released, up to 200 ms (the unwinding takes microseconds; a context that
  // still holds the client's own work waits that long), then stops.
  ~Loop() {
    guard_.reset();
    for (int i = 0; i < 20 && !ran_out_.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    io_.stop();
    thread_.join();
  }
  boost::asio::io_context& io() { return io_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  template <class T>
  T run(boost::asio::awaitable<T> a) {
    return boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::atomic<bool> ran_out_{false};
  std::thread thread_;
};

}  // namespace redis_test
