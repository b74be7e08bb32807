#include "kit/http/error_response.hpp"

#include "kit/errors/envelope.hpp"
#include "kit/http/response.hpp"

namespace kit::http {

Response error_response(const errors::AppError& error, std::string_view request_id,
                        unsigned version) {
  Response res = json_response(
      static_cast<Status>(error.status()),
      errors::render_envelope(error.code(), error.message(), error.details(), request_id), version);
  // Appended, not replaced: a field may repeat (one RateLimit entry per policy that applied).
  for (const auto& [name, value] : error.headers()) res.insert(name, value);
  return res;
}

Response internal_error_response(std::string_view request_id, unsigned version) {
  return json_response(
      Status::internal_server_error,
      errors::render_envelope("INTERNAL_ERROR", "An unexpected error occurred", {}, request_id),
      version);
}

}  // namespace kit::http
