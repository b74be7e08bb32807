#pragma once
// Runs one coroutine to completion on an io_context of its own, from a test's thread: its
// value, or its exception rethrown. Work it hands to other threads (a worker pool) keeps the
// io_context running until it comes back.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace test_support {

template <class T>
T run_coroutine(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
  auto done = boost::asio::co_spawn(io, std::move(work), boost::asio::use_future);
  io.restart();
  io.run();
  return done.get();
}

template <class T>
T run_coroutine(boost::asio::awaitable<T> work) {
  boost::asio::io_context io;
  return run_coroutine(io, std::move(work));
}

}  // namespace test_support
