// kit::redis::Client against a real Redis (scripts/redis-test-server.sh): AUTH and SELECT from
// the URL, pipelined commands from many coroutines, scripts by SHA with reload on NOSCRIPT,
// bounded failures (wrong password, nothing listening, server halted) and recovery.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/redis/client.hpp"
#include "tests/support/redis_server.hpp"

namespace {

namespace asio = boost::asio;
using kit::redis::Client;
using kit::redis::ClientOptions;
using kit::redis::Reply;
using Clock = std::chrono::steady_clock;

std::vector<std::string> args(std::initializer_list<std::string> items) {
  return items;
}

asio::awaitable<Reply> cmd(Client& c, std::vector<std::string> a) {
  co_return co_await c.command(std::move(a));
}

TEST(RedisClient, AuthenticatesAndRunsCommands) {
  redis_test::Loop loop;
  Client client(loop.executor(), ClientOptions{.url = redis_test::shared()});
  loop.run(client.ping());
  EXPECT_EQ(loop.run(cmd(client, args({"SET", "it:client:a", "hello"}))).str, "OK");
  const Reply got = loop.run(cmd(client, args({"GET", "it:client:a"})));
  EXPECT_EQ(got.type, Reply::Type::string);
  EXPECT_EQ(got.str, "hello");
  EXPECT_TRUE(loop.run(cmd(client, args({"GET", "it:client:missing"}))).is_nil());
  EXPECT_EQ(loop.run(cmd(client, args({"DEL", "it:client:a"}))).integer, 1);
  EXPECT_THROW(loop.run(cmd(client, args({"NOSUCHCOMMAND"}))), kit::redis::ReplyError);
  // The connection survives an error reply.
  loop.run(client.ping());
  EXPECT_EQ(client.stats().connects, 1u);
}

TEST(RedisClient, SelectsTheDatabaseFromTheUrl) {
  redis_test::Loop loop;
  auto url3 = redis_test::shared();
  url3.db = 3;
  Client db3(loop.executor(), ClientOptions{.url = url3});
  Client db0(loop.executor(), ClientOptions{.url = redis_test::shared()});
  loop.run(cmd(db3, args({"SET", "it:client:db", "three", "EX", "60"})));
  EXPECT_EQ(loop.run(cmd(db3, args({"GET", "it:client:db"}))).str, "three");
  EXPECT_TRUE(loop.run(cmd(db0, args({"GET", "it:client:db"}))).is_nil());
}

TEST(RedisClient, ManyConcurrentCommandsFromSeveralThreads) {
  // The callers' loops first, so they outlive the client's: its thread still touches a caller's
  // io_context (the coroutine's work count) right after resuming that caller.
  redis_test::Loop caller1;
  redis_test::Loop caller2;
  redis_test::Loop client_loop;
  auto client =
      std::make_shared<Client>(client_loop.executor(), ClientOptions{.url = redis_test::shared()});
  std::atomic<int> ok{0};
  auto worker = [&](int base) -> asio::awaitable<void> {
    for (int i = 0; i < 200; ++i) {
      const std::string key = "it:client:n" + std::to_string(base + i);
      std::vector<std::string> incr;
      incr.emplace_back("INCR");
      incr.push_back(key);
      const Reply r = co_await client->command(std::move(incr));
      std::vector<std::string> del;
      del.emplace_back("DEL");
      del.push_back(key);
      co_await client->command(std::move(del));
      if (r.integer == 1) ok.fetch_add(1);
    }
  };
  auto f1 = asio::co_spawn(caller1.io(), worker(0), asio::use_future);
  auto f2 = asio::co_spawn(caller2.io(), worker(1000), asio::use_future);
  auto f3 = asio::co_spawn(caller2.io(), worker(2000), asio::use_future);
  f1.get();
  f2.get();
  f3.get();
  EXPECT_EQ(ok.load(), 600);
}

TEST(RedisClient, EvalShaLoadsTheScriptOnNoscript) {
  redis_test::Loop loop;
  Client client(loop.executor(), ClientOptions{.url = redis_test::shared()});
  const kit::redis::Script script("return {KEYS[1], ARGV[1], 42}");
  EXPECT_EQ(script.sha1().size(), 40u);
  loop.run(cmd(client, args({"SCRIPT", "FLUSH"})));  // the server forgets every script
  const Reply r = loop.run(client.eval(script, args({"k"}), args({"v"})));
  ASSERT_EQ(r.type, Reply::Type::array);
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[0].str, "k");
  EXPECT_EQ(r.elements[1].str, "v");
  EXPECT_EQ(r.elements[2].integer, 42);
  const Reply exists = loop.run(cmd(client, args({"SCRIPT", "EXISTS", script.sha1()})));
  ASSERT_EQ(exists.elements.size(), 1u);
  EXPECT_EQ(exists.elements[0].integer, 1);
  // The second call goes straight through EVALSHA.
  EXPECT_EQ(loop.run(client.eval(script, args({"x"}), args({"y"}))).elements[0].str, "x");
}

TEST(RedisClient, WrongPasswordFailsWithoutEchoingIt) {
  redis_test::Loop loop;
  auto url = redis_test::shared();
  url.password = "wrong-secret-password-123";
  Client client(loop.executor(), ClientOptions{.url = url});
  try {
    loop.run(client.ping());
    FAIL() << "expected UnavailableError";
  } catch (const kit::redis::UnavailableError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("authentication failed"), std::string::npos) << what;
    EXPECT_EQ(what.find("wrong-secret-password-123"), std::string::npos) << what;
    EXPECT_EQ(what.find(redis_test::shared().password), std::string::npos) << what;
  }
}

TEST(RedisClient, NothingListeningFailsFastAndBacksOff) {
  redis_test::Loop loop;
  auto url = redis_test::shared();
  url.port = 1;  // nothing listens there
  Client client(loop.executor(),
                ClientOptions{.url = url, .reconnect_initial_backoff = std::chrono::seconds{5}});
  const auto t0 = Clock::now();
  EXPECT_THROW(loop.run(client.ping()), kit::redis::UnavailableError);
  // Inside the backoff window: no connection attempt, an immediate failure.
  for (int i = 0; i < 100; ++i) {
    EXPECT_THROW(loop.run(client.ping()), kit::redis::UnavailableError);
  }
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds{1});
  EXPECT_EQ(client.stats().connect_failures, 1u);
}

TEST(RedisClient, HaltedServerFailsWithinTheTimeoutAndRecovers) {
  redis_test::PrivateServer server;
  redis_test::Loop loop;
  Client client(loop.executor(),
                ClientOptions{.url = server.parsed(),
                              .command_timeout = std::chrono::milliseconds{300},
                              .reconnect_initial_backoff = std::chrono::milliseconds{50},
                              .reconnect_max_backoff = std::chrono::milliseconds{200}});
  loop.run(client.ping());
  server.halt();
  const auto t0 = Clock::now();
  EXPECT_THROW(loop.run(client.ping()), kit::redis::UnavailableError);
  EXPECT_THROW(loop.run(client.ping()), kit::redis::UnavailableError);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds{2});
  EXPECT_FALSE(client.stats().connected);
  server.resume();
  bool recovered = false;
  for (int i = 0; i < 50 && !recovered; ++i) {
    try {
      loop.run(client.ping());
      recovered = true;
    } catch (const kit::redis::UnavailableError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
  EXPECT_TRUE(recovered);
  EXPECT_GE(client.stats().connects, 2u);
}

TEST(RedisClient, OneConnectionPerExecutorAndCallersElsewhereUseTheFirst) {
  redis_test::Loop first;
  redis_test::Loop second;
  redis_test::Loop elsewhere;  // not one of the client's executors
  Client client(std::vector<asio::any_io_executor>{first.executor(), second.executor()},
                ClientOptions{.url = redis_test::shared()});
  const std::int64_t on_first = first.run(cmd(client, args({"CLIENT", "ID"}))).integer;
  const std::int64_t on_second = second.run(cmd(client, args({"CLIENT", "ID"}))).integer;
  const std::int64_t from_elsewhere = elsewhere.run(cmd(client, args({"CLIENT", "ID"}))).integer;
  EXPECT_NE(on_first, on_second);       // each thread has its own connection
  EXPECT_EQ(from_elsewhere, on_first);  // a foreign caller hops to the first one
  EXPECT_EQ(first.run(cmd(client, args({"CLIENT", "ID"}))).integer, on_first);  // kept open
  EXPECT_EQ(client.stats().connects, 2u);
  EXPECT_TRUE(client.stats().connected);

  elsewhere.run(client.close());  // closes both
  EXPECT_FALSE(client.stats().connected);
  EXPECT_THROW(first.run(client.ping()), kit::redis::UnavailableError);
  EXPECT_THROW(second.run(client.ping()), kit::redis::UnavailableError);
}

TEST(RedisClient, PingReachesEveryConnectionFromAnyCaller) {
  redis_test::Loop first;
  redis_test::Loop second;
  redis_test::Loop elsewhere;
  Client client(std::vector<asio::any_io_executor>{first.executor(), second.executor()},
                ClientOptions{.url = redis_test::shared()});
  elsewhere.run(client.ping());
  EXPECT_EQ(client.stats().connects, 2u) << "one PING opened both connections";
  EXPECT_TRUE(client.stats().connected);
  second.run(client.ping());
  EXPECT_EQ(client.stats().connects, 2u) << "and kept them";
  elsewhere.run(client.close());
}

TEST(RedisClient, CloseFailsLaterCommands) {
  redis_test::Loop loop;
  Client client(loop.executor(), ClientOptions{.url = redis_test::shared()});
  loop.run(client.ping());
  loop.run(client.close());
  EXPECT_THROW(loop.run(client.ping()), kit::redis::UnavailableError);
}

}  // namespace
