#pragma once
// Waiting on the service's probes in end-to-end tests (bounded polling).
#include <chrono>
#include <thread>

#include "support/http_client.hpp"

namespace e2e {

// Polls GET /health/ready until it answers `status` (bounded); returns the last response.
inline HttpResponse wait_ready_status(unsigned short port, unsigned status,
                                      std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  HttpResponse res;
  do {
    res = get(port, "/health/ready");
    if (res.result_int() == status) return res;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return res;
}

}  // namespace e2e
