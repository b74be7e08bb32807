#include "kit/http/response.hpp"

namespace kit::http {

Response json_response(Status status, std::string body, unsigned version) {
  Response res{status, version};
  res.set(Field::content_type, kJsonContentType);
  res.body() = std::move(body);
  res.prepare_payload();
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
