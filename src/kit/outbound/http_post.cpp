#include "kit/outbound/http_post.hpp"

#include <algorithm>
#include <utility>

#include "kit/outbound/curl_handle.hpp"

namespace kit::outbound {
namespace {

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

HttpResponse perform(CURL* h, const HttpOptions& options, const std::string& url,
                     const Headers& headers, std::string_view body) {
  SList list;
  for (const auto& [name, value] : headers) list.add(name + ": " + value);
  list.add("Expect:");  // no 100-continue round trip before larger bodies

  HttpResponse response;
  Sink sink{&response.body, options.max_response_bytes, &response.truncated};
  check(curl_easy_setopt(h, CURLOPT_URL, url.c_str()));
  check(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
  check(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
  set_common(h, options.connect_timeout, options.total_timeout, options.ca_file);
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

}  // namespace

HttpResponse post(const HttpOptions& options, const std::string& url, const Headers& headers,
                  std::string_view body) {
  const CurlHandle easy;
  return perform(easy.get(), options, url, headers, body);
}

HttpClient::HttpClient(HttpOptions options)
    : options_(std::move(options)), easy_(std::make_unique<CurlHandle>()) {}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::post(const std::string& url, const Headers& headers,
                              std::string_view body) {
  // A reset clears the last call's options and keeps its open connections.
  curl_easy_reset(easy_->get());
  return perform(easy_->get(), options_, url, headers, body);
}

}  // namespace kit::outbound
