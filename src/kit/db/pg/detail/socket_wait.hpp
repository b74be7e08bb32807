#pragma once
// One asynchronous wait for a libpq socket: readable and/or writable, or a timer expiring,
// whichever comes first. The losing operations are cancelled and the completion is delivered
// only once all of them have finished, so nothing refers to the socket or timer afterwards.
#include <memory>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

namespace kit::db::pg::detail {

enum class Readiness { readable, writable, timer_expired };

template <class Handler>
struct SocketWaitState {
  SocketWaitState(Handler&& h, boost::asio::posix::stream_descriptor& s,
                  boost::asio::steady_timer& t)
      : handler(std::move(h)), socket(s), timer(t) {}

  void on_complete(Readiness which, const boost::system::error_code& ec) {
    if (!done) {
      if (!ec) {
        done = true;
        result = which;
      } else if (ec != boost::asio::error::operation_aborted) {
        done = true;
        error = ec;
      }
      if (done) {
        boost::system::error_code ignored;
        socket.cancel(ignored);
        timer.cancel();
      }
    }
    if (--pending > 0) return;
    // Everything was cancelled from outside (the connection was closed under us).
    if (!done) error = boost::asio::error::operation_aborted;
    auto executor = boost::asio::get_associated_executor(handler, socket.get_executor());
    boost::asio::dispatch(executor,
                          [h = std::move(handler), ec = error, r = result]() mutable { h(ec, r); });
  }

  Handler handler;
  boost::asio::posix::stream_descriptor& socket;
  boost::asio::steady_timer& timer;
  int pending = 0;
  bool done = false;
  Readiness result = Readiness::timer_expired;
  boost::system::error_code error;
};

// The timer's expiry must be set by the caller. Completion: void(error_code, Readiness).
template <class CompletionToken>
auto async_wait_socket(boost::asio::posix::stream_descriptor& socket,
                       boost::asio::steady_timer& timer, bool want_read, bool want_write,
                       CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, Readiness)>(
      [&socket, &timer, want_read, want_write](auto handler) {
        using State = SocketWaitState<decltype(handler)>;
        auto state = std::make_shared<State>(std::move(handler), socket, timer);
        state->pending = 1 + (want_read ? 1 : 0) + (want_write ? 1 : 0);
        if (want_read) {
          socket.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [state](const boost::system::error_code& ec) {
                              state->on_complete(Readiness::readable, ec);
                            });
        }
        if (want_write) {
          socket.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                            [state](const boost::system::error_code& ec) {
                              state->on_complete(Readiness::writable, ec);
                            });
        }
        timer.async_wait([state](const boost::system::error_code& ec) {
          state->on_complete(Readiness::timer_expired, ec);
        });
      },
      token);
}

}  // namespace kit::db::pg::detail
