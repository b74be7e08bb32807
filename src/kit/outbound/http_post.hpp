#pragma once
// Outbound HTTP POST to another service (an email service, a webhook receiver) through
// libcurl. A call blocks, so callers run it on a bounded kit::async::WorkerPool, never on an
// I/O thread. What it enforces for every call:
//  - http:// and https:// only, redirects not followed (a 3xx is an answer like any other);
//  - HTTPS verifies the peer's certificate and name against the system's CA store, or against
//    `ca_file` when it is set (a private CA, the tests' CA);
//  - connect and total time bounded; the response body kept up to `max_response_bytes`;
//  - errors say what went wrong in libcurl's words, never the URL (it may hold credentials).
#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kit::outbound {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{10000};
  std::string ca_file;  // empty: the system's CA store
  std::size_t max_response_bytes = 64 * 1024;
  std::string user_agent = "user-service";
};

struct HttpResponse {
  long status = 0;
  std::string body;        // at most max_response_bytes
  bool truncated = false;  // the body was longer
  bool success() const noexcept { return status >= 200 && status < 300; }
};

// The call did not get an HTTP answer: no connection, TLS refused, timed out, a bad URL.
class OutboundError : public std::runtime_error {
 public:
  explicit OutboundError(const std::string& what, std::string_view kind = "outbound_error")
      : std::runtime_error(what), kind_(kind) {}
  // The class of failure, for a span's error.type or a metric, never the message: "timeout",
  // "name_resolution_failed", "connect_failed", "tls_failed", "transfer_failed",
  // "login_denied", "protocol_error" or "outbound_error". Static text.
  std::string_view kind() const noexcept { return kind_; }

 private:
  std::string_view kind_;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// POSTs `body` to `url` with `headers` (Content-Type among them when wanted). Throws
// OutboundError when no HTTP answer came back.
HttpResponse post(const HttpOptions& options, const std::string& url, const Headers& headers,
                  std::string_view body);

class CurlHandle;

// post() on a handle kept from one call to the next, so the connection to the peer stays open
// between calls (HTTP keep-alive) instead of being opened for each: for a caller that posts
// to one endpoint many times a second, such as the span exporter. One thread at a time.
class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse post(const std::string& url, const Headers& headers, std::string_view body);

 private:
  HttpOptions options_;
  std::unique_ptr<CurlHandle> easy_;
};

}  // namespace kit::outbound
