#pragma once
// Writing a response: the header in wire form into one reused buffer, and the rare chunked
// response through Beast's serializer.
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "kit/http/types.hpp"

namespace kit::http {

// Writes into `out` the status line and header fields of `res`, then `fixed_headers` (already in
// wire form, see RequestContext), as HTTP/1.1 wire bytes, like Beast's serializer writes them
// for a Content-Length framed message. One contiguous buffer: Beast's serializer walks a nested
// buffer sequence per write, which cost more than the copy (bench/).
void serialize_header(const Response& res, std::string_view fixed_headers, std::string& out);

// A chunked response (or only its header, for HEAD), through Beast's serializer.
boost::asio::awaitable<void> write_chunked(boost::asio::ip::tcp::socket& stream, Response& res,
                                           bool head_only, boost::system::error_code& ec);

}  // namespace kit::http
