#pragma once
// Errors as responses: the one place an AppError becomes its status, its envelope
// (kit::errors::render_envelope, docs/http-api.md "Errors") and the headers it carries.
// ErrorMapping answers what was thrown with it, the router answers 404/405 with it, and a
// handler returns it for an error it expects (an id that is not found), which costs no stack
// unwind (a throw through the coroutine frames costs about 13k instructions).
#include <string_view>

#include "kit/errors/app_error.hpp"
#include "kit/http/types.hpp"

namespace kit::http {

Response error_response(const errors::AppError& error, std::string_view request_id,
                        unsigned version);

// The 500 envelope, for anything that is not an AppError (ErrorMapping, and the server itself
// when the chain threw).
Response internal_error_response(std::string_view request_id, unsigned version);

}  // namespace kit::http
