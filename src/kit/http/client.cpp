#include "kit/http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

namespace kit::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

ClientResponse http_get(std::string_view url, std::chrono::milliseconds timeout) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) throw std::runtime_error("only http:// URLs are supported");
  std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string target =
      slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string host;
  std::string port = "80";
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8000
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::runtime_error("malformed URL");
    host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port = std::string(authority.substr(close + 2));
    }
  } else {
    const auto colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(authority.substr(colon + 1));
  }
  if (host.empty()) throw std::runtime_error("malformed URL");

  asio::io_context ctx;
  beast::tcp_stream stream(ctx);
  ClientResponse out;
  std::exception_ptr failure;
  asio::ip::tcp::resolver resolver(ctx);
  beast::flat_buffer buffer;
  boost::beast::http::request<boost::beast::http::empty_body> req{boost::beast::http::verb::get,
                                                                  target, 11};
  req.set(boost::beast::http::field::host, authority);
  req.set(boost::beast::http::field::user_agent, "user-service-healthcheck");
  req.set(boost::beast::http::field::connection, "close");
  boost::beast::http::response<boost::beast::http::string_body> res;

  stream.expires_after(timeout);
  resolver.async_resolve(host, port, [&](beast::error_code ec, auto results) {
    if (ec) return void(failure = std::make_exception_ptr(std::runtime_error(ec.message())));
    stream.async_connect(results, [&](beast::error_code ec2, auto) {
      if (ec2) return void(failure = std::make_exception_ptr(std::runtime_error(ec2.message())));
      boost::beast::http::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
        if (ec3) return void(failure = std::make_exception_ptr(std::runtime_error(ec3.message())));
        boost::beast::http::async_read(
            stream, buffer, res, [&](beast::error_code ec4, std::size_t) {
              if (ec4) failure = std::make_exception_ptr(std::runtime_error(ec4.message()));
            });
      });
    });
  });
  ctx.run_for(timeout + std::chrono::milliseconds(100));
  if (failure) std::rethrow_exception(failure);
  if (res.result_int() == 0) throw std::runtime_error("timed out");
  out.status = res.result_int();
  out.body = std::move(res.body());
  return out;
}

}  // namespace kit::http
