// Pipeline mode (Connection::submit through Pool::query): many statements share a few
// connections, every caller gets its own answer, a failing read fails alone, writes are
// isolated, a statement stuck behind others gets the pool's 503 at the queue timeout, and a
// killed backend takes nothing acknowledged with it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/asio/detached.hpp>

#include "kit/async/deadline.hpp"
#include "kit/db/errors.hpp"
#include "kit/db/pg/pool.hpp"
#include "tests/support/pg_server.hpp"

namespace {

using namespace pg_test;
using kit::db::QueryError;
using kit::db::UnavailableError;
using kit::db::UniqueViolation;
using kit::db::pg::Params;
using kit::db::pg::Pool;
using kit::db::pg::PoolOptions;
using kit::db::pg::Result;
using kit::db::pg::Retry;
using kit::db::pg::Statement;

const Statement kPlusOne{"pipe_plus_one", "SELECT $1::int + 1", true};
const Statement kDivide{"pipe_divide", "SELECT 100 / $1::int", true};
const Statement kBroken{"pipe_broken", "SELECT no_such_column FROM pg_class", true};
const Statement kSleepPid{"pipe_sleep", "SELECT pg_sleep($1::float8), pg_backend_pid()", true};
const Statement kCount{"pipe_count", "SELECT count(*) FROM pipe_items", true};
const Statement kInsert{"pipe_insert", "INSERT INTO pipe_items (id) VALUES ($1::int)"};

// The pool tests' options without the overflow connection: every test here counts backends.
PoolOptions options_for(std::string application_name) {
  PoolOptions o = test_pool_options(std::move(application_name));
  o.max_overflow = 0;
  return o;
}

// One connection, so that every statement shares one pipeline.
PoolOptions one_connection(std::string application_name,
                           std::chrono::milliseconds acquire_timeout) {
  PoolOptions o = options_for(std::move(application_name));
  o.size = 1;
  o.acquire_timeout = acquire_timeout;
  return o;
}

int as_int(const Result& r) {
  return std::stoi(std::string(r.get(0, 0).value_or("-1")));
}

// Starts `body(i)` for i in [0, n) as concurrent coroutines (so their statements share batches);
// each adds one to `completed` when it ends.
template <class Body>
void spawn_each(asio::io_context& ctx, int n, int& completed, Body body) {
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        ctx,
        [&completed, body, i]() -> asio::awaitable<void> {
          co_await body(i);
          ++completed;
        },
        asio::detached);
  }
}

TEST(PgPipeline, TwoHundredConcurrentReadsEachGetTheirOwnAnswerOnTwoConnections) {
  asio::io_context ctx;
  const std::string app = unique_name("pipe_many_");
  Pool pool(ctx.get_executor(), options_for(app));
  run(ctx, pool.start());
  constexpr int kReads = 200;
  std::vector<int> answers(kReads, -1);
  int completed = 0;
  spawn_each(ctx, kReads, completed, [&](int i) -> asio::awaitable<void> {
    const Params p{std::to_string(i)};
    answers[i] = as_int(co_await pool.query(kPlusOne, p));
  });
  int max_backends = 0;
  run(ctx, [&]() -> asio::awaitable<void> {
    auto monitor = co_await connect(server_url(), "pipe-monitor");
    for (int i = 0; i < 1000 && completed < kReads; ++i) {
      max_backends = std::max(max_backends, co_await count_backends(*monitor, app));
      co_await sleep_for(2ms);
    }
  }());
  ASSERT_EQ(completed, kReads);
  for (int i = 0; i < kReads; ++i) EXPECT_EQ(answers[i], i + 1) << "read " << i;
  EXPECT_LE(max_backends, 2);
  EXPECT_LE(pool.stats().open, 2u);
  run(ctx, pool.close());
}

TEST(PgPipeline, AFailingReadFailsAloneAndTheRestOfItsBatchIsAnswered) {
  asio::io_context ctx;
  auto options = options_for(unique_name("pipe_fail_"));
  options.size = 1;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  constexpr int kReads = 40;
  std::vector<std::string> outcome(kReads);
  int completed = 0;
  spawn_each(ctx, kReads, completed, [&](int i) -> asio::awaitable<void> {
    // Every tenth divides by zero; all of them land in one batch on the one connection.
    const Params p{std::to_string(i % 10 == 5 ? 0 : i + 1)};
    try {
      outcome[i] = std::to_string(as_int(co_await pool.query(kDivide, p)));
    } catch (const QueryError& e) {
      outcome[i] = "error " + e.sqlstate();
    }
  });
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 1000 && completed < kReads; ++i) co_await sleep_for(2ms);
  }());
  ASSERT_EQ(completed, kReads);
  for (int i = 0; i < kReads; ++i) {
    if (i % 10 == 5) {
      EXPECT_EQ(outcome[i], "error 22012") << "read " << i;
    } else {
      EXPECT_EQ(outcome[i], std::to_string(100 / (i + 1))) << "read " << i;
    }
  }
  run(ctx, pool.close());
}

TEST(PgPipeline, AStatementThatCannotBePreparedFailsEveryTimeWithoutHanging) {
  asio::io_context ctx;
  auto options = options_for(unique_name("pipe_prepare_"));
  options.size = 1;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool failed = false;
      try {
        co_await pool.query(kBroken, {});
      } catch (const QueryError& e) {
        failed = true;
        EXPECT_EQ(e.sqlstate(), "42703");
      }
      EXPECT_TRUE(failed) << "attempt " << attempt;
      const Params p{"41"};
      EXPECT_EQ(as_int(co_await pool.query(kPlusOne, p)), 42);
    }
  }());
  run(ctx, pool.close());
}

TEST(PgPipeline, WritesAreIsolatedFromTheReadsAroundThem) {
  asio::io_context ctx;
  auto options = options_for(unique_name("pipe_write_"));
  options.size = 1;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  run(ctx, [&]() -> asio::awaitable<void> {
    auto admin = co_await connect(server_url(), "pipe-admin");
    co_await admin->exec(
        "DROP TABLE IF EXISTS pipe_items; CREATE TABLE pipe_items (id int PRIMARY KEY)");
    co_await admin->exec("INSERT INTO pipe_items VALUES (1)");
  }());
  int completed = 0;
  std::vector<std::string> writes(3);
  const auto read = [&](int) -> asio::awaitable<void> {
    const Params p{"1"};
    EXPECT_EQ(as_int(co_await pool.query(kPlusOne, p)), 2);
  };
  for (int i = 0; i < 3; ++i) {
    spawn_each(ctx, 1, completed, [&, i](int) -> asio::awaitable<void> {
      // 1 exists already; 2 and 3 are new. A failing write must not take the others or the
      // reads queued with it down.
      const Params p{std::to_string(i + 1)};
      try {
        co_await pool.query(kInsert, p, Retry::never);
        writes[i] = "ok";
      } catch (const UniqueViolation&) {
        writes[i] = "duplicate";
      }
    });
    spawn_each(ctx, 5, completed, read);
  }
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 1000 && completed < 18; ++i) co_await sleep_for(2ms);
    EXPECT_EQ(completed, 18);
    EXPECT_EQ(as_int(co_await pool.query(kCount, {})), 3);
    auto admin = co_await connect(server_url(), "pipe-admin");
    co_await admin->exec("DROP TABLE pipe_items");
  }());
  EXPECT_EQ(writes, (std::vector<std::string>{"duplicate", "ok", "ok"}));
  run(ctx, pool.close());
}

TEST(PgPipeline, StatementsQueuedBehindAStuckOneGetUnavailableAtTheQueueTimeout) {
  asio::io_context ctx;
  Pool pool(ctx.get_executor(), one_connection(unique_name("pipe_queue_"), 300ms));
  run(ctx, pool.start());
  int ok = 0;
  int unavailable = 0;
  int completed = 0;
  spawn_each(ctx, 5, completed, [&](int i) -> asio::awaitable<void> {
    // The first sleeps 1.5 s at the head of the pipeline; the others wait behind it.
    const Params p{i == 0 ? "1.5" : "0"};
    try {
      co_await pool.query(kSleepPid, p);
      ++ok;
    } catch (const UnavailableError&) {
      ++unavailable;
    }
  });
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 1000 && completed < 5; ++i) co_await sleep_for(5ms);
  }());
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(unavailable, 4);
  // The connection is still good afterwards: the abandoned answers were read and dropped.
  run(ctx, [&]() -> asio::awaitable<void> {
    const Params p{"6"};
    EXPECT_EQ(as_int(co_await pool.query(kPlusOne, p)), 7);
  }());
  run(ctx, pool.close());
}

// A request's deadline ends every wait of its statements: the one the server is running (at the
// head of the pipeline), the one queued behind it, and one that would start after it. Nothing
// else is disturbed: a statement without a deadline is answered, and so is the next one.
TEST(PgPipeline, AStatementsWaitEndsAtItsRequestsDeadlineWhereverItIs) {
  asio::io_context ctx;
  Pool pool(ctx.get_executor(), one_connection(unique_name("pipe_deadline_"), 5s));
  run(ctx, pool.start());
  const auto deadline = kit::async::Deadline::after(300ms);
  int cancelled = 0;
  int answered = 0;
  int completed = 0;
  std::vector<int> order;  // which statement's wait ended when
  spawn_each(ctx, 4, completed, [&](int i) -> asio::awaitable<void> {
    // 0 sleeps 1.5 s at the head with the deadline; 1 waits behind it with the deadline; 2 waits
    // behind it without one; 3 starts after the deadline.
    if (i == 3) co_await sleep_for(400ms);
    const Params p{i == 0 ? "1.5" : "0"};
    try {
      co_await pool.query(kSleepPid, p, Retry::safe, i == 2 ? kit::async::Deadline{} : deadline);
      ++answered;
    } catch (const kit::async::DeadlineExceeded&) {
      ++cancelled;
    }
    order.push_back(i);
  });
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 1000 && completed < 4; ++i) co_await sleep_for(5ms);
  }());
  EXPECT_EQ(cancelled, 3);
  EXPECT_EQ(answered, 1);  // the one without a deadline, once the head's sleep was over
  // The head and the one behind it stopped waiting before the server's 1.5 s were over, which
  // the statement without a deadline had to wait out.
  ASSERT_EQ(order.size(), 4U);
  EXPECT_EQ(order.back(), 2);
  run(ctx, [&]() -> asio::awaitable<void> {
    const Params p{"6"};
    EXPECT_EQ(as_int(co_await pool.query(kPlusOne, p)), 7);
  }());
  run(ctx, pool.close());
}

TEST(PgPipeline, ReadsOnAKilledBackendAreAnsweredFromANewConnection) {
  asio::io_context ctx;
  const std::string app = unique_name("pipe_kill_");
  auto options = options_for(app);
  options.size = 1;
  Pool pool(ctx.get_executor(), options);
  run(ctx, pool.start());
  constexpr int kReads = 20;
  std::vector<std::string> pids(kReads);
  int completed = 0;
  spawn_each(ctx, kReads, completed, [&](int i) -> asio::awaitable<void> {
    // One batch: the first sleeps at its head when the backend is killed.
    const Params p{i == 0 ? "0.3" : "0"};
    try {
      Result r = co_await pool.query(kSleepPid, p, Retry::safe);
      pids[i] = std::string(r.get(0, 1).value_or(""));
    } catch (const std::exception& e) {
      pids[i] = std::string("error: ") + e.what();
    }
  });
  std::string killed;
  run(ctx, [&]() -> asio::awaitable<void> {
    auto admin = co_await connect(server_url(), "pipe-admin");
    co_await sleep_for(100ms);
    const Params p{app};
    Result r = co_await admin->query(
        "SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity WHERE application_name = $1",
        p);
    killed = std::string(r.get(0, 1).value_or(""));
    for (int i = 0; i < 3000 && completed < kReads; ++i) co_await sleep_for(5ms);
  }());
  ASSERT_EQ(completed, kReads);
  ASSERT_FALSE(killed.empty());
  for (int i = 0; i < kReads; ++i) {
    EXPECT_FALSE(pids[i].empty()) << "read " << i;
    EXPECT_EQ(pids[i].find("error"), std::string::npos) << "read " << i << ": " << pids[i];
    EXPECT_NE(pids[i], killed) << "read " << i << " answered by the killed backend";
  }
  run(ctx, pool.close());
}

}  // namespace
