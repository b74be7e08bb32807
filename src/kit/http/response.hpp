#pragma once
// Small helpers to build responses.
#include <string>

#include "kit/http/types.hpp"

namespace kit::http {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// A response with a JSON body (already serialized) and the right Content-Type/Length.
Response json_response(Status status, std::string body, unsigned version = 11);
// A response without a body (204, 304).
Response empty_response(Status status, unsigned version = 11);

}  // namespace kit::http
