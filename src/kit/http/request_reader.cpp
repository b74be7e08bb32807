#include "kit/http/request_reader.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <string_view>

namespace kit::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// What one read asks for at most, as Beast's reads do.
constexpr std::size_t kReadBytes = 65536;

}  // namespace

RequestParser::RequestParser(std::size_t max_header_bytes, std::uint64_t max_body_bytes)
    : header_limit_(max_header_bytes) {
  header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(max_header_bytes, UINT32_MAX)));
  body_limit(max_body_bytes);
}

void RequestParser::on_field_impl(bhttp::field name, beast::string_view name_string,
                                  beast::string_view value, beast::error_code& ec) {
  if (is_header_done()) {
    // A trailer field: Beast's parser would add it to the header fields, after every check on
    // them ran (an Authorization or X-Forwarded-For that only the trailer carries).
    trailer_refused_ = true;
    ec = bhttp::error::bad_field;
    return;
  }
  get().insert(name, name_string, value);
}

void RequestParser::on_chunk_header_impl(std::uint64_t, beast::string_view extensions,
                                         beast::error_code& ec) {
  field_bytes_ += extensions.size();
  if (field_bytes_ > header_limit_) ec = bhttp::error::header_limit;
}

// RFC 9112 §6.1 and §3.2: a request whose framing a proxy in front of us could read
// differently is refused, and the connection closed, since the rest of the stream might be a
// smuggled request. Beast already rejects Content-Length with Transfer-Encoding, conflicting
// Content-Lengths and malformed chunks; it reads any other Transfer-Encoding (xchunked,
// "chunked, identity", gzip) as "no body" and would parse that body as the next request, and it
// reads a chunked HTTP/1.0 request, which HTTP/1.0 does not have.
// Host: HTTP/1.1 requires exactly one, HTTP/1.0 at most one. Authorization and Content-Type
// are singletons that decide who the caller is and how the body is read: with two copies a
// proxy or filter in front could act on the other one than we do (we would take the first).
std::optional<std::string> framing_problem(const RequestParser& p) {
  const auto& h = p.get();
  if (h.count(Field::transfer_encoding) > 0) {
    if (h.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
    std::string_view te = h[Field::transfer_encoding];
    while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) te.remove_prefix(1);
    while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) te.remove_suffix(1);
    if (!beast::iequals(te, "chunked")) return "Unsupported Transfer-Encoding";
  }
  const auto hosts = h.count(Field::host);
  if (hosts > 1 || (hosts == 0 && h.version() >= 11)) return "Missing or repeated Host header";
  if (h.count(Field::authorization) > 1) return "Repeated Authorization header";
  if (h.count(Field::content_type) > 1) return "Repeated Content-Type header";
  return std::nullopt;
}

bool need_more_bytes(RequestParser& parser, beast::flat_buffer& buffer,
                     boost::system::error_code& ec, ReadUntil until) {
  const auto done = [&] {
    return until == ReadUntil::header ? parser.is_header_done() : parser.is_done();
  };
  while (!done() && buffer.size() > 0) {
    const bool in_header = !parser.is_header_done();
    // Not eager: a put that completes the header stops there, so what the puts begun inside
    // the header consumed is the header's size.
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (in_header) parser.count_header_bytes(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      return true;
    }
    if (ec) return false;
    if (used == 0) return true;
  }
  return !done();
}

asio::awaitable<void> read_request(asio::ip::tcp::socket& socket, beast::flat_buffer& buffer,
                                   RequestParser& parser, ReadUntil until,
                                   boost::system::error_code& ec) {
  for (;;) {
    if (!need_more_bytes(parser, buffer, ec, until)) co_return;
    // What the parser left unconsumed while it waits is an unfinished chunk line or trailer
    // section (it takes body bytes as they come): it must fit what the header left of the limit.
    if (parser.is_header_done() && parser.over_field_limit(buffer.size())) {
      ec = bhttp::error::header_limit;
      co_return;
    }
    const std::size_t room = buffer.max_size() - buffer.size();
    const std::size_t want =
        std::min({std::max<std::size_t>(512, buffer.capacity() - buffer.size()), kReadBytes, room});
    if (want == 0) {
      ec = bhttp::error::buffer_overflow;
      co_return;
    }
    const std::size_t n = co_await socket.async_read_some(
        buffer.prepare(want), asio::redirect_error(asio::use_awaitable, ec));
    buffer.commit(n);
    if (ec == asio::error::eof) {
      if (!parser.got_some()) {
        ec = bhttp::error::end_of_stream;
        co_return;
      }
      ec = {};
      parser.put_eof(ec);
      if (!ec && !parser.is_done() && until == ReadUntil::message)
        ec = bhttp::error::partial_message;
      co_return;
    }
    if (ec) co_return;
  }
}

}  // namespace kit::http
