#include "kit/outbound/curl_handle.hpp"

#include <mutex>
#include <string_view>

namespace kit::outbound {

namespace {

// OutboundError::kind() of a libcurl failure.
std::string_view kind_of(CURLcode code) noexcept {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "name_resolution_failed";
    case CURLE_COULDNT_CONNECT:
      return "connect_failed";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
      return "tls_failed";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return "transfer_failed";
    case CURLE_LOGIN_DENIED:
      return "login_denied";
    case CURLE_WEIRD_SERVER_REPLY:
      return "protocol_error";
    default:
      return "outbound_error";
  }
}

}  // namespace

void check(CURLcode code) {
  if (code != CURLE_OK) throw OutboundError(curl_easy_strerror(code), kind_of(code));
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
