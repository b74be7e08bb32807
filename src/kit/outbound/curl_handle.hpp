#pragma once
// What kit/outbound's libcurl calls share: one-time global set-up, an owned easy handle, an
// owned header list, the error check, and the options every call sets (no signals, the peer's
// certificate and name verified, bounded time). Internal to kit/outbound.
#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>

#include "kit/outbound/http_post.hpp"

namespace kit::outbound {

// Throws OutboundError with libcurl's description of `code` (never a URL).
void check(CURLcode code);

class CurlHandle {
 public:
  CurlHandle();  // libcurl's global set-up happens once, on the first handle
  CURL* get() const noexcept { return easy_.get(); }

 private:
  struct Deleter {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
  };
  std::unique_ptr<CURL, Deleter> easy_;
};

class SList {
 public:
  void add(const std::string& line);
  curl_slist* get() const noexcept { return list_.get(); }
  curl_slist* release() noexcept { return list_.release(); }

 private:
  struct Deleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
  };
  std::unique_ptr<curl_slist, Deleter> list_;
};

void set_common(CURL* h, std::chrono::milliseconds connect_timeout,
                std::chrono::milliseconds total_timeout, const std::string& ca_file);

}  // namespace kit::outbound
