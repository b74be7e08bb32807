#include "kit/errors/envelope.hpp"

#include "kit/http/response.hpp"
#include "kit/json/writer.hpp"

namespace kit::errors {

std::string render_envelope(std::string_view code, std::string_view message,
                            const std::vector<Detail>& details, std::string_view request_id) {
  json::Writer w(128);
  w.begin_object();
  w.field("error", code);
  w.field("message", message);
  if (!details.empty()) {
    w.key("details").begin_array();
    for (const Detail& d : details) {
      w.begin_object();
      w.field("code", d.code);
      w.field("message", d.message);
      if (!d.field.empty()) w.field("field", d.field);
      w.end_object();
    }
    w.end_array();
  }
  w.field("request_id", request_id);
  w.end_object();
  return std::move(w).str();
}

http::Response error_response(const AppError& error, std::string_view request_id,
                              unsigned version) {
  http::Response res = http::json_response(
      static_cast<http::Status>(error.status()),
      render_envelope(error.code(), error.message(), error.details(), request_id), version);
  // Appended, not replaced: a field may repeat (one RateLimit entry per policy that applied).
  for (const auto& [name, value] : error.headers()) res.insert(name, value);
  return res;
}

}  // namespace kit::errors
