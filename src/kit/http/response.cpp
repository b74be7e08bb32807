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

}  // namespace kit::http
