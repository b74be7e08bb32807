#pragma once
// A destination's blocking call (libcurl) on its worker pool: `call` returns the Delivery, and
// anything it throws becomes a failed one in the library's words (never a URL or a message).
#include <exception>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "kit/async/worker_pool.hpp"
#include "kit/outbound/http_post.hpp"
#include "kit/outbox/dispatcher.hpp"

namespace kit::outbox {

template <class F>
boost::asio::awaitable<Delivery> deliver_on(async::WorkerPool& pool, F call) {
  Delivery result;
  try {
    result = co_await pool.run(std::move(call));
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  co_return result;
}

// The Delivery of an HTTP answer: a 2xx is one.
inline Delivery http_delivery(const outbound::HttpResponse& response) {
  return response.success() ? Delivery{true, ""}
                            : Delivery{false, "HTTP " + std::to_string(response.status)};
}

}  // namespace kit::outbox
