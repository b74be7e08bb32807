#pragma once
// Small helpers to build responses.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "kit/http/types.hpp"

namespace kit::http {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// A response with a JSON body (already serialized) and the right Content-Type/Length.
Response json_response(Status status, std::string body, unsigned version = 11);
// A response without a body (204, 304).
Response empty_response(Status status, unsigned version = 11);

// Frames the body like Beast's prepare_payload(), but leaves a Content-Length that already
// matches the body alone and inserts a missing one once: prepare_payload() always looks the
// field up, erases and re-inserts it, a free and an allocation per response. The server calls
// it on every response; the helpers above on the responses they make.
void frame_body(Response& res);

// Header lines in wire form, "Name: value\r\n" each, for RequestContext::fixed_headers.
std::string header_lines(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields);
// Sets each field of such lines on `res` (for what needs the whole message as an object: the
// chunked writer, tests).
void add_fixed_headers(Response& res, std::string_view lines);

}  // namespace kit::http
