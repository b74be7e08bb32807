#pragma once
// Reading one request off a connection with bounded memory: the parser, the framing policy and
// the read loop the server uses (docs: SECURITY.md "Request framing").
//
// - Chunk extensions and the trailer section count against the header limit, with the header
//   itself: a request whose header, extensions and trailer exceed it gets 431. Beast 1.74 bounds
//   neither and buffers an unfinished chunk line or trailer section whole; the read loop refuses
//   to read on once the unparsed bytes would pass the limit.
// - Trailer fields are never merged into the request's fields (Beast's parser would): a request
//   that carries one is refused with 400.
// - Transfer-Encoding in an HTTP/1.0 request, any coding but "chunked", a missing or repeated
//   Host, a repeated Authorization or Content-Type: refused with 400 (framing_problem()).
// The connection's buffer never holds more than the header limit plus a read's worth of bytes
// beyond the body the parser takes; its max_size is the header limit plus the body limit.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "kit/http/types.hpp"

namespace kit::http {

class RequestParser final : public bhttp::request_parser<bhttp::string_body> {
 public:
  RequestParser(std::size_t max_header_bytes, std::uint64_t max_body_bytes);

  // The header's bytes, counted by the reader when the header completes.
  void count_header_bytes(std::size_t n) noexcept { field_bytes_ += n; }
  // Whether `pending` more unparsed bytes (an unfinished chunk line or trailer section) would
  // take the header, the extensions and the trailer past the header limit.
  bool over_field_limit(std::size_t pending) const noexcept {
    return field_bytes_ + pending > header_limit_;
  }
  // The request carried a trailer field (the parse then failed and nothing was merged).
  bool trailer_refused() const noexcept { return trailer_refused_; }

 private:
  void on_field_impl(bhttp::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                            boost::beast::error_code& ec) override;

  std::size_t header_limit_;
  std::size_t field_bytes_ = 0;
  bool trailer_refused_ = false;
};

// The reason a request whose header is complete must be refused (400, then close), or nullopt.
std::optional<std::string> framing_problem(const RequestParser& parser);

enum class ReadUntil : std::uint8_t { header, message };

// Parses what `buffer` already holds until the header (or the whole message) is done. Returns
// whether the caller must still read from the socket; `ec` is then clear, else it holds the
// parse error the asynchronous read would have reported.
bool need_more_bytes(RequestParser& parser, boost::beast::flat_buffer& buffer,
                     boost::system::error_code& ec, ReadUntil until);

// Reads from `socket` and parses until the header (or the whole message) is done, like Beast's
// async_read_header / async_read, within the limits above: an unfinished chunk line or trailer
// section past the header limit fails with http::error::header_limit. Errors land in `ec`.
boost::asio::awaitable<void> read_request(boost::asio::ip::tcp::socket& socket,
                                          boost::beast::flat_buffer& buffer, RequestParser& parser,
                                          ReadUntil until, boost::system::error_code& ec);

}  // namespace kit::http
