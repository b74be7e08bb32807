#pragma once
// The one JSON error envelope (SPEC §3 "Errors"):
// {"error": CODE, "message": …, "details": [{"code","message","field"}…], "request_id": …}
#include <string>
#include <string_view>
#include <vector>

#include "kit/errors/app_error.hpp"

namespace kit::errors {

std::string render_envelope(std::string_view code, std::string_view message,
                            const std::vector<Detail>& details, std::string_view request_id);

}  // namespace kit::errors
