#pragma once
// The request/response types every handler and middleware sees.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>

namespace kit::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using Status = bhttp::status;
using Verb = bhttp::verb;
using Field = bhttp::field;

struct RequestContext;

// A route handler or the rest of a middleware chain.
using Handler = std::function<boost::asio::awaitable<Response>(Request&, RequestContext&)>;

}  // namespace kit::http
