#pragma once
// A blocking HTTP/1.1 test client over a raw TCP connection to 127.0.0.1, so tests control the
// exact bytes (pipelining, partial requests, oversized headers) and see exactly what came back.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace e2e {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class Connection {
 public:
  explicit Connection(unsigned short port);
  // Sends raw bytes.
  void send(std::string_view bytes);
  // Reads one response (a HEAD response has no body: pass head=true). Throws on EOF/timeout.
  HttpResponse read_response(bool head = false,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the server closed the connection cleanly (EOF) within `timeout`; false on a
  // reset or if it stayed open.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  // Whether the last error seen was a connection reset.
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

struct Request {
  std::string method = "GET";
  std::string target = "/";
  std::map<std::string, std::string> headers;
  std::string body;
  std::string serialize() const;  // adds Host (unless set), Content-Length when there is a body
};

// One request on a new connection.
HttpResponse request(unsigned short port, const Request& req);
inline HttpResponse get(unsigned short port, const std::string& target,
                        std::map<std::string, std::string> headers = {}) {
  return request(port, Request{"GET", target, std::move(headers), ""});
}

}  // namespace e2e
