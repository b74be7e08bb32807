#include "support/http_client.hpp"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

namespace e2e {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

Connection::Connection(unsigned short port) : socket_(ctx_) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
}

void Connection::send(std::string_view bytes) {
  asio::write(socket_, asio::buffer(bytes.data(), bytes.size()));
}

namespace {

void wait_readable(asio::ip::tcp::socket& s, std::chrono::milliseconds timeout) {
  pollfd pfd{s.native_handle(), POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) {
    throw std::runtime_error("timed out waiting for the server");
  }
}

}  // namespace

HttpResponse Connection::read_response(bool head, std::chrono::milliseconds timeout) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.skip(head);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::system::error_code ec;
  while (!parser.is_done()) {
    if (buffer_.size() == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("timed out reading a response");
      wait_readable(socket_, left);
      const std::size_t n = socket_.read_some(buffer_.prepare(65536), ec);
      if (ec) throw std::runtime_error("read failed: " + ec.message());
      buffer_.commit(n);
    }
    const std::size_t used = parser.put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (used == 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("timed out reading a response");
        wait_readable(socket_, left);
        const std::size_t n = socket_.read_some(buffer_.prepare(65536), ec);
        if (ec) throw std::runtime_error("read failed: " + ec.message());
        buffer_.commit(n);
      }
      continue;
    }
    if (ec) throw std::runtime_error("bad response: " + ec.message());
  }
  return parser.release();
}

bool Connection::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[1024];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    if (poll(&pfd, 1, 50) <= 0) continue;
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::eof) return true;
    if (ec) return false;  // reset or other error
  }
  return false;
}

std::string Request::serialize() const {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  if (!headers.contains("Host")) out += "Host: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    if (!headers.contains("Content-Length") && !headers.contains("Transfer-Encoding")) {
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
  }
  out += "\r\n" + body;
  return out;
}

HttpResponse request(unsigned short port, const Request& req) {
  Connection c(port);
  c.send(req.serialize());
  return c.read_response(req.method == "HEAD");
}

}  // namespace e2e
