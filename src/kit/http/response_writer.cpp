#include "kit/http/response_writer.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

namespace kit::http {

namespace asio = boost::asio;
using asio::ip::tcp;

void serialize_header(const Response& res, std::string_view fixed_headers, std::string& out) {
  std::string_view reason = res.reason();
  if (reason.empty()) reason = bhttp::obsolete_reason(res.result());
  std::size_t size = 17 + reason.size() + fixed_headers.size();
  for (const auto& f : res) size += f.name_string().size() + f.value().size() + 4;
  out.clear();
  out.reserve(size);
  const unsigned version = res.version();
  const unsigned code = res.result_int();
  const char start[] = {'H',
                        'T',
                        'T',
                        'P',
                        '/',
                        static_cast<char>('0' + version / 10),
                        '.',
                        static_cast<char>('0' + version % 10),
                        ' ',
                        static_cast<char>('0' + code / 100 % 10),
                        static_cast<char>('0' + code / 10 % 10),
                        static_cast<char>('0' + code % 10),
                        ' '};
  out.append(start, sizeof start);
  out.append(reason);
  out.append("\r\n");
  for (const auto& f : res) {
    out.append(f.name_string());
    out.append(": ");
    out.append(f.value());
    out.append("\r\n");
  }
  out.append(fixed_headers);
  out.append("\r\n");
}

// GCC 12 reports a false -Wmismatched-new-delete in this coroutine's ramp: Asio's frame
// operator new (recycling allocator) is inlined, its matching operator delete is not recognized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// In a frame of its own: Beast's serializer is large and no handler uses chunked framing today.
asio::awaitable<void> write_chunked(tcp::socket& stream, Response& res, bool head_only,
                                    boost::system::error_code& ec) {
  bhttp::response_serializer<bhttp::string_body> serializer(res);
  if (head_only) {
    co_await bhttp::async_write_header(stream, serializer,
                                       asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await bhttp::async_write(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
  }
}
#pragma GCC diagnostic pop

}  // namespace kit::http
