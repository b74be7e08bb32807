#pragma once
// Readiness checks (docs/http-api.md "GET /health/ready"). Components register named checks at
// start-up (database, redis); the readiness route runs them all concurrently, each bounded by a
// timeout.
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace kit::health {

// Thrown by a check to report a failure. Its message is shown to clients in the readiness body,
// so it must never contain credentials, hosts from connection strings or other internals.
// Any other exception a check throws is reported as "check failed".
class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A check completes normally when healthy and throws CheckFailed otherwise.
using Check = std::function<boost::asio::awaitable<void>()>;

struct CheckResult {
  std::string name;
  bool ok = false;
  double duration_ms = 0;
  std::string message;  // empty when ok
};

class Registry {
 public:
  void add(std::string name, Check check);
  bool empty() const noexcept { return checks_.empty(); }

  // Runs every check concurrently on `executor`; a check that has not finished within
  // `timeout` is reported as failed ("timed out"). Results are in registration order.
  boost::asio::awaitable<std::vector<CheckResult>> run(
      std::chrono::milliseconds timeout = std::chrono::seconds{1}) const;

 private:
  struct Entry {
    std::string name;
    Check check;
  };
  std::vector<Entry> checks_;
};

}  // namespace kit::health
