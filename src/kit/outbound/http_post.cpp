#include "kit/outbound/http_post.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace kit::outbound {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw OutboundError("libcurl could not be initialised");
    }
  });
}

struct EasyDeleter {
  void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

struct Sink {
  std::string* body;
  std::size_t limit;
  bool* truncated;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * count;
  const std::size_t room = sink->limit - std::min(sink->limit, sink->body->size());
  if (bytes > room) *sink->truncated = true;
  sink->body->append(data, std::min(bytes, room));
  return bytes;  // keep reading (and discarding): the status and timing stay whole
}

void check(CURLcode code) {
  if (code != CURLE_OK) throw OutboundError(curl_easy_strerror(code));
}

}  // namespace

HttpResponse post(const HttpOptions& options, const std::string& url, const Headers& headers,
                  std::string_view body) {
  global_init();
  const std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) throw OutboundError("libcurl could not make a handle");
  CURL* h = easy.get();

  std::unique_ptr<curl_slist, ListDeleter> list;
  const auto add = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) throw OutboundError("out of memory");
    (void)list.release();
    list.reset(grown);
  };
  for (const auto& [name, value] : headers) add(name + ": " + value);
  add("Expect:");  // no 100-continue round trip before larger bodies

  HttpResponse response;
  Sink sink{&response.body, options.max_response_bytes, &response.truncated};
  check(curl_easy_setopt(h, CURLOPT_URL, url.c_str()));
  check(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
  check(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
  check(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
  check(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L));
  check(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L));
  if (!options.ca_file.empty()) check(curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str()));
  check(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(options.connect_timeout.count())));
  check(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count())));
  check(curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str()));
  check(curl_easy_setopt(h, CURLOPT_POST, 1L));
  check(curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data()));
  check(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())));
  check(curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get()));
  check(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body));
  check(curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink));
  check(curl_easy_perform(h));
  check(curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status));
  return response;
}

}  // namespace kit::outbound
