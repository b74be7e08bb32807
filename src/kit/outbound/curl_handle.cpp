#include "kit/outbound/curl_handle.hpp"

#include <mutex>

namespace kit::outbound {

void check(CURLcode code) {
  if (code != CURLE_OK) throw OutboundError(curl_easy_strerror(code));
}

CurlHandle::CurlHandle() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw OutboundError("libcurl could not be initialised");
    }
  });
  easy_.reset(curl_easy_init());
  if (!easy_) throw OutboundError("libcurl could not make a handle");
}

void SList::add(const std::string& line) {
  curl_slist* grown = curl_slist_append(list_.get(), line.c_str());
  if (grown == nullptr) throw OutboundError("out of memory");
  (void)list_.release();
  list_.reset(grown);
}

void set_common(CURL* h, std::chrono::milliseconds connect_timeout,
                std::chrono::milliseconds total_timeout, const std::string& ca_file) {
  check(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
  check(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L));
  check(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L));
  if (!ca_file.empty()) check(curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str()));
  check(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count())));
  check(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout.count())));
}

}  // namespace kit::outbound
