// The connection pool: limits, FIFO waiting, acquisition timeout, recovery from killed
// backends, start-up backoff, graceful close, and use from several io_contexts at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "kit/db/errors.hpp"
#include "kit/db/pg/pool.hpp"
#include "kit/db/pg/readiness.hpp"
#include "kit/health/registry.hpp"
#include "tests/support/pg_server.hpp"

namespace {

using namespace pg_test;
using kit::db::UnavailableError;
using kit::db::pg::Params;
using kit::db::pg::Pool;
using kit::db::pg::PoolOptions;
using kit::db::pg::Result;
using kit::db::pg::Retry;
using kit::db::pg::Statement;

const Statement kSleep{"test_sleep", "SELECT pg_sleep($1::float8), pg_backend_pid()"};
const Statement kPid{"test_pid", "SELECT pg_backend_pid()"};
const Statement kEcho{"test_echo", "SELECT $1::text"};

asio::awaitable<void> terminate_backends(kit::db::pg::Connection& admin, const std::string& app) {
  const Params p{app};
  co_await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", p);
  // Wait until they are really gone, so the test does not race the server. A backend leaves
  // pg_stat_activity slightly before its FATAL message and FIN reach our socket, hence the
  // extra pause.
  for (int i = 0; i < 200 && co_await count_backends(admin, app) > 0; ++i) co_await sleep_for(10ms);
  co_await sleep_for(100ms);
}

TEST(PgPool, StartOpensSizeConnections) {
  asio::io_context ctx;
  const std::string app = unique_name("pool_start_");
  Pool pool(ctx.get_executor(), test_pool_options(app));
  run(ctx, pool.start());
  auto s = pool.stats();
  EXPECT_EQ(s.open, 2u);
  EXPECT_EQ(s.idle, 2u);
  EXPECT_EQ(s.in_use, 0u);
  run(ctx, pool.ping());
  run(ctx, pool.close());
  EXPECT_EQ(pool.stats().open, 0u);
}

TEST(PgPool, TwentyConcurrentOperationsNeverExceedSizePlusOverflow) {
  asio::io_context ctx;
  const std::string app = unique_name("pool_limit_");
  auto options = test_pool_options(app);
  options.idle_timeout = 300ms;
  options.pipelining = false;  // each operation needs a connection of its own: some must wait
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());

  int completed = 0;
  int max_backends = 0;
  std::size_t max_open = 0;
  std::size_t max_waiting = 0;
  bool done = false;
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
          const Params p{"0.05"};
          co_await pool.query(kSleep, p);
          ++completed;
        },
        asio::detached);
  }
  run(ctx, [&]() -> asio::awaitable<void> {
    auto monitor = co_await connect(server_url(), "pool-monitor");
    while (completed < 20) {
      max_backends = std::max(max_backends, co_await count_backends(*monitor, app));
      max_open = std::max(max_open, pool.stats().open);
      max_waiting = std::max(max_waiting, pool.stats().waiting);
      co_await sleep_for(5ms);
    }
    done = true;
  }());
  ASSERT_TRUE(done);
  EXPECT_EQ(completed, 20);
  EXPECT_LE(max_backends, 3);
  EXPECT_GE(max_backends, 3) << "the overflow connection was never opened";
  EXPECT_LE(max_open, 3u);
  EXPECT_GT(max_waiting, 0u);
  const auto stats = pool.stats();
  EXPECT_GE(stats.acquisitions, 20u);
  EXPECT_GT(stats.wait_seconds_total, 0.0);
  std::cout << "[ measured ] max backends in pg_stat_activity: " << max_backends
            << ", max pool open: " << max_open << ", max waiting: " << max_waiting
            << ", total wait: " << stats.wait_seconds_total << " s\n";

  // The overflow connection closes after idle_timeout; the persistent ones stay.
  run(ctx, sleep_for(600ms));
  EXPECT_EQ(pool.stats().open, 2u);
  run(ctx, pool.close());
}

TEST(PgPool, WaitersAreServedInArrivalOrder) {
  asio::io_context ctx;
  auto options = test_pool_options(unique_name("pool_fifo_"));
  options.size = 1;
  options.max_overflow = 0;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  std::vector<int> order;
  int finished = 0;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        ctx,
        [&, i]() -> asio::awaitable<void> {
          const Params p{std::to_string(i)};
          co_await pool.query(kEcho, p);
          order.push_back(i);
          ++finished;
        },
        asio::detached);
  }
  run(ctx, [&]() -> asio::awaitable<void> {
    while (finished < 5) co_await sleep_for(5ms);
  }());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  run(ctx, pool.close());
}

TEST(PgPool, AcquisitionTimeoutIsUnavailable) {
  asio::io_context ctx;
  auto options = test_pool_options(unique_name("pool_timeout_"));
  options.size = 1;
  options.max_overflow = 0;
  options.acquire_timeout = 200ms;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  bool holder_done = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        const Params p{"1"};
        co_await pool.query(kSleep, p);
        holder_done = true;
      },
      asio::detached);
  const auto started = std::chrono::steady_clock::now();
  try {
    run(ctx, [&]() -> asio::awaitable<void> {
      co_await sleep_for(50ms);  // let the holder take the only connection
      const Params p{"x"};
      co_await pool.query(kEcho, p);
    }());
    FAIL() << "acquired a connection that was in use";
  } catch (const UnavailableError& e) {
    EXPECT_EQ(e.status(), 503u);
    EXPECT_NE(e.internal_reason().find("no database connection free"), std::string::npos);
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 900ms);  // not retried after waiting out the acquisition timeout
  run(ctx, [&]() -> asio::awaitable<void> {
    while (!holder_done) co_await sleep_for(10ms);
  }());
  run(ctx, pool.close());
}

// Found by tests/fault/overload.py: a query cancelled at the statement timeout (57014) was a
// QueryError and reached clients as 500 INTERNAL_ERROR. The database is up but too slow: 503.
TEST(PgPool, StatementTimeoutIsUnavailableAndNotRetried) {
  asio::io_context ctx;
  auto options = test_pool_options(unique_name("pool_stmt_timeout_"));
  options.statement_timeout = 100ms;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  const auto acquisitions_before = pool.stats().acquisitions;
  std::string reason;
  try {
    run(ctx, [&]() -> asio::awaitable<void> {
      const Params p{"3"};
      co_await pool.query(kSleep, p, Retry::safe);
    }());
    ADD_FAILURE() << "a 3 s query finished despite a 100 ms statement timeout";
  } catch (const UnavailableError& e) {
    EXPECT_EQ(e.status(), 503u);
    reason = e.internal_reason();
  }
  EXPECT_NE(reason.find("57014"), std::string::npos) << reason;
  EXPECT_EQ(pool.stats().acquisitions - acquisitions_before, 1u) << "not retried";
  run(ctx, [&]() -> asio::awaitable<void> {  // the connection is still usable
    const Params p{"still here"};
    Result r = co_await pool.query(kEcho, p);
    EXPECT_EQ(r.get(0, 0), std::optional<std::string_view>{"still here"});
  }());
  run(ctx, pool.close());
}

TEST(PgPool, KilledBackendIsReplacedAndSafeQueriesSucceed) {
  asio::io_context ctx;
  const std::string app = unique_name("pool_kill_");
  auto options = test_pool_options(app);
  options.size = 1;
  options.max_overflow = 0;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  run(ctx, [&]() -> asio::awaitable<void> {
    auto admin = co_await connect(server_url(), "pool-admin");
    Result first = co_await pool.query(kPid, {});
    const std::string pid1{first.get(0, 0).value_or("")};

    // Killed while idle: detected before sending, so even Retry::never succeeds.
    co_await terminate_backends(*admin, app);
    Result second = co_await pool.query(kPid, {}, Retry::never);
    const std::string pid2{second.get(0, 0).value_or("")};
    EXPECT_NE(pid1, pid2);

    // Killed while a query runs: a safe query is retried on a new connection...
    int finished = 0;
    std::string pid3;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          const Params p{"0.5"};
          Result r = co_await pool.query(kSleep, p, Retry::safe);
          pid3 = std::string(r.get(0, 1).value_or(""));
          ++finished;
        },
        asio::detached);
    co_await sleep_for(150ms);
    co_await terminate_backends(*admin, app);
    while (finished < 1) co_await sleep_for(10ms);
    EXPECT_FALSE(pid3.empty());
    EXPECT_NE(pid3, pid2);

    // ...while a non-idempotent one reports the ambiguous failure instead of repeating it.
    bool unavailable = false;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          const Params p{"0.5"};
          try {
            co_await pool.query(kSleep, p, Retry::never);
          } catch (const UnavailableError&) {
            unavailable = true;
          }
          ++finished;
        },
        asio::detached);
    co_await sleep_for(150ms);
    co_await terminate_backends(*admin, app);
    while (finished < 2) co_await sleep_for(10ms);
    EXPECT_TRUE(unavailable);

    // And the pool has recovered.
    Result after = co_await pool.query(kPid, {});
    EXPECT_EQ(after.rows(), 1);
  }());
  EXPECT_LE(pool.stats().open, 1u);
  run(ctx, pool.close());
}

TEST(PgPool, StartGivesUpAfterConnectTimeoutWhileServerIsDown) {
  asio::io_context ctx;
  unsigned short port = 0;
  {
    asio::ip::tcp::acceptor probe(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  PoolOptions options;
  options.conninfo = "postgresql://u:topsecret@127.0.0.1:" + std::to_string(port) + "/db";
  options.connect_timeout = 700ms;
  Pool pool(ctx.get_executor(), options);
  const auto started = std::chrono::steady_clock::now();
  try {
    run(ctx, pool.start());
    FAIL() << "started without a server";
  } catch (const UnavailableError& e) {
    EXPECT_EQ(e.internal_reason().find("topsecret"), std::string::npos) << e.internal_reason();
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 600ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(pool.stats().open, 0u);
  // Queries fail fast (503) instead of hanging while the server is down.
  const auto q_started = std::chrono::steady_clock::now();
  EXPECT_THROW(run(ctx, pool.query(kPid, {})), UnavailableError);
  EXPECT_LT(std::chrono::steady_clock::now() - q_started, 2s);
  EXPECT_THROW(run(ctx, pool.ping()), UnavailableError);
}

TEST(PgPool, StartWaitsForTheServerToComeUp) {
  // A "server" that refuses for a while: the port is closed first, then a forwarding
  // listener appears. Simpler: start against the real server, but only after a delay in which
  // the pool's first attempts fail. We emulate it with a TCP proxy opened late.
  asio::io_context ctx;
  asio::ip::tcp::acceptor late(ctx);
  unsigned short port = 0;
  {
    asio::ip::tcp::acceptor probe(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  const std::string real = server_url();
  const auto colon = real.rfind(':');
  const auto slash = real.find('/', colon);
  const unsigned short real_port =
      static_cast<unsigned short>(std::stoi(real.substr(colon + 1, slash - colon - 1)));
  std::string proxied = real;
  proxied.replace(colon + 1, slash - colon - 1, std::to_string(port));

  // Forwards one accepted connection to the real server, byte for byte.
  auto pump = [](std::shared_ptr<asio::ip::tcp::socket> from,
                 std::shared_ptr<asio::ip::tcp::socket> to) -> asio::awaitable<void> {
    std::array<char, 8192> buf;
    boost::system::error_code ec;
    for (;;) {
      auto n = co_await from->async_read_some(asio::buffer(buf),
                                              asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      co_await asio::async_write(*to, asio::buffer(buf.data(), n),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    from->close(ec);
    to->close(ec);
  };
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        co_await sleep_for(400ms);
        asio::ip::tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), port};
        late.open(ep.protocol());
        late.set_option(asio::socket_base::reuse_address(true));
        late.bind(ep);
        late.listen();
        for (;;) {
          auto client = std::make_shared<asio::ip::tcp::socket>(
              co_await late.async_accept(asio::use_awaitable));
          auto server = std::make_shared<asio::ip::tcp::socket>(ctx);
          co_await server->async_connect({asio::ip::make_address("127.0.0.1"), real_port},
                                         asio::use_awaitable);
          asio::co_spawn(ctx, pump(client, server), asio::detached);
          asio::co_spawn(ctx, pump(server, client), asio::detached);
        }
      },
      asio::detached);

  PoolOptions options;
  options.conninfo = proxied;
  options.application_name = unique_name("pool_late_");
  options.size = 1;
  options.connect_timeout = 5s;
  Pool pool(ctx.get_executor(), options);
  const auto started = std::chrono::steady_clock::now();
  run(ctx, pool.start());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 350ms);
  Result r = run(ctx, pool.query(kPid, {}));
  EXPECT_EQ(r.rows(), 1);
  run(ctx, pool.close());
  late.close();
}

TEST(PgPool, UsableFromCoroutinesOnOtherIoContexts) {
  // The pool lives on its own io_context thread; two more threads with their own io_contexts
  // await it concurrently and must be resumed on their own threads.
  asio::io_context pool_ctx;
  auto guard = asio::make_work_guard(pool_ctx);
  std::thread pool_thread([&] { pool_ctx.run(); });
  Pool pool(pool_ctx.get_executor(), test_pool_options(unique_name("pool_threads_")));

  // The callers' io_contexts outlive the pool's thread: after resuming a caller, that thread
  // still releases its copy of the caller's executor (a work count inside the io_context).
  std::array<asio::io_context, 3> caller_ctx;  // two clients, then the closing caller
  std::atomic<int> ok{0};
  std::atomic<int> wrong_thread{0};
  auto client = [&](int id) {
    asio::io_context& ctx = caller_ctx[static_cast<std::size_t>(id)];
    const auto me = std::this_thread::get_id();
    run(ctx, [&]() -> asio::awaitable<void> {
      if (id == 0) co_await pool.start();
      std::vector<std::string> values;
      int inflight = 0;
      for (int i = 0; i < 50; ++i) {
        ++inflight;
        asio::co_spawn(
            ctx,
            [&, i]() -> asio::awaitable<void> {
              const Params p{std::to_string(id * 1000 + i)};
              Result r = co_await pool.query(kEcho, p);
              if (std::this_thread::get_id() != me) ++wrong_thread;
              if (r.get(0, 0) == std::optional<std::string_view>{std::to_string(id * 1000 + i)}) {
                ++ok;
              }
              (void)pool.stats();  // safe from any thread
              --inflight;
            },
            asio::detached);
      }
      while (inflight > 0) co_await sleep_for(2ms);
    }());
  };
  std::thread a([&] { client(0); });
  std::thread b([&] { client(1); });
  a.join();
  b.join();
  run(caller_ctx[2], pool.close());
  guard.reset();
  pool_thread.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(wrong_thread.load(), 0);
}

TEST(PgPool, CloseWaitsForLeasedConnections) {
  asio::io_context ctx;
  Pool pool(ctx.get_executor(), test_pool_options(unique_name("pool_close_")));
  run(ctx, pool.start());
  bool query_done = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        const Params p{"0.3"};
        co_await pool.query(kSleep, p);
        query_done = true;
      },
      asio::detached);
  run(ctx, [&]() -> asio::awaitable<void> {
    co_await sleep_for(50ms);
    co_await pool.close();
  }());
  EXPECT_TRUE(query_done);  // drained, not cut
  EXPECT_EQ(pool.stats().open, 0u);
  EXPECT_THROW(run(ctx, pool.query(kPid, {})), UnavailableError);
}

}  // namespace

namespace {

TEST(PgReadiness, ReportsOkAndASafeMessageWhenDown) {
  using namespace pg_test;
  asio::io_context ctx;
  kit::db::pg::Pool up(ctx.get_executor(), test_pool_options(unique_name("ready_up_")));
  kit::health::Registry registry;
  registry.add("database", kit::db::pg::readiness_check(up));
  auto results = run(ctx, registry.run());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok) << results[0].message;

  kit::db::pg::PoolOptions o;
  o.conninfo = "postgresql://u:hunter2@127.0.0.1:1/db";
  kit::db::pg::Pool down(ctx.get_executor(), o);
  kit::health::Registry failing;
  failing.add("database", kit::db::pg::readiness_check(down));
  results = run(ctx, failing.run());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].message, "database unavailable");
  run(ctx, up.close());
  run(ctx, down.close());
}

}  // namespace
