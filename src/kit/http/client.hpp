#pragma once
// A minimal blocking HTTP/1.1 GET for command-line tools (`user-service healthcheck`), never
// used on an I/O thread. Only plain http:// URLs.
#include <chrono>
#include <string>
#include <string_view>

namespace kit::http {

struct ClientResponse {
  unsigned status = 0;
  std::string body;
};

// Throws std::runtime_error on a malformed URL, a connection failure or the timeout.
ClientResponse http_get(std::string_view url, std::chrono::milliseconds timeout);

}  // namespace kit::http
