#include "kit/async/background.hpp"

#include <chrono>
#include <stdexcept>

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace {

namespace asio = boost::asio;
using kit::async::Background;

// A task that ends when its timer is cancelled (or after a minute, never reached here).
asio::awaitable<void> wait_on(asio::steady_timer& gate, int& finished) {
  boost::system::error_code ec;
  co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  ++finished;
}

asio::awaitable<void> fail() {
  throw std::runtime_error("boom");
  co_return;
}

TEST(Background, RunsAtMostItsBoundAndDrainsWhenTheyEnd) {
  asio::io_context io;
  asio::steady_timer gate(io, std::chrono::minutes(1));
  int finished = 0;
  Background background(2);
  EXPECT_TRUE(background.spawn(io.get_executor(), wait_on(gate, finished)));
  EXPECT_TRUE(background.spawn(io.get_executor(), wait_on(gate, finished)));
  EXPECT_FALSE(background.spawn(io.get_executor(), wait_on(gate, finished)));  // dropped
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(background.running(), 2U);

  bool drained = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        drained = co_await background.drain(std::chrono::seconds(5));
      },
      asio::detached);
  asio::post(io, [&] { gate.cancel(); });
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(drained);
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(background.running(), 0U);
  // Room again once they ended.
  EXPECT_TRUE(background.spawn(io.get_executor(), fail()));
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(background.running(), 0U);  // an escaping exception still ends the task
}

TEST(Background, DrainGivesUpAfterItsLimit) {
  asio::io_context io;
  asio::steady_timer gate(io, std::chrono::minutes(1));
  int finished = 0;
  Background background(4);
  ASSERT_TRUE(background.spawn(io.get_executor(), wait_on(gate, finished)));
  bool drained = true;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        drained = co_await background.drain(std::chrono::milliseconds(50));
        gate.cancel();
      },
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  EXPECT_FALSE(drained);
  EXPECT_EQ(finished, 1);
}

}  // namespace
