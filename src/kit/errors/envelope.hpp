#pragma once
// The one JSON error envelope (docs/http-api.md "Errors"):
// {"error": CODE, "message": …, "details": [{"code","message","field"}…], "request_id": …}
#include <string>
#include <string_view>
#include <vector>

#include "kit/errors/app_error.hpp"
#include "kit/http/types.hpp"

namespace kit::errors {

std::string render_envelope(std::string_view code, std::string_view message,
                            const std::vector<Detail>& details, std::string_view request_id);

// `error` as a response: its status, its envelope and the headers it carries. The one renderer
// of an AppError: ErrorMapping answers what was thrown with it, and a handler returns it for an
// error it expects (an id that is not found), which costs no stack unwind (a throw through the
// coroutine frames costs about 13k instructions).
http::Response error_response(const AppError& error, std::string_view request_id, unsigned version);

}  // namespace kit::errors
