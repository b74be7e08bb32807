#pragma once
// The one JSON error envelope (docs/http-api.md "Errors"):
// {"error": CODE, "message": …, "details": [{"code","message","field"}…], "request_id": …}
// as JSON text; kit/http/error_response.hpp makes it a response.
#include <string>
#include <string_view>
#include <vector>

#include "kit/errors/app_error.hpp"

namespace kit::errors {

std::string render_envelope(std::string_view code, std::string_view message,
                            const std::vector<Detail>& details, std::string_view request_id);

}  // namespace kit::errors
