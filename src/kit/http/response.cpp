#include "kit/http/response.hpp"

#include <charconv>
#include <iterator>

namespace kit::http {

void frame_body(Response& res) {
  const unsigned code = res.result_int();
  if (code < 200 || code == 204 || code == 304 || res.find(Field::transfer_encoding) != res.end()) {
    res.prepare_payload();
    return;
  }
  char digits[20];
  const auto [end, error] = std::to_chars(std::begin(digits), std::end(digits), res.body().size());
  const std::string_view length(digits, static_cast<std::size_t>(end - digits));
  const auto it = res.find(Field::content_length);
  if (it == res.end()) {
    res.insert(Field::content_length, length);
  } else if (it->value() != length) {
    res.prepare_payload();  // replaces the wrong value (and any duplicate) at once
  }
}

Response json_response(Status status, std::string body, unsigned version) {
  Response res{status, version};
  res.insert(Field::content_type, kJsonContentType);  // a new response: nothing to replace
  res.body() = std::move(body);
  frame_body(res);
  return res;
}

Response empty_response(Status status, unsigned version) {
  Response res{status, version};
  res.prepare_payload();
  return res;
}

std::string header_lines(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  return out;
}

void add_fixed_headers(Response& res, std::string_view lines) {
  while (!lines.empty()) {
    const auto end = lines.find("\r\n");
    const std::string_view line = lines.substr(0, end);
    const auto colon = line.find(": ");
    if (colon != std::string_view::npos) res.set(line.substr(0, colon), line.substr(colon + 2));
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 2);
  }
}

}  // namespace kit::http
