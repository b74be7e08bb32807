#pragma once
// Helpers for the PostgreSQL integration tests: the server URL from the environment, running a
// coroutine to completion, and throwaway databases so suites never see each other's rows.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kit/db/pg/connection.hpp"
#include "kit/db/pg/pool.hpp"
#include "kit/util/uuid.hpp"

namespace pg_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// The server every test talks to. Never skips: a missing server is a failing test suite.
inline std::string server_url() {
  const char* url = std::getenv("USER_SERVICE_TEST_PG_URL");
  if (!url || !*url) {
    ADD_FAILURE() << "USER_SERVICE_TEST_PG_URL is not set. Start the test server with\n"
                     "  bash scripts/pg-test-server.sh start\n"
                     "  export USER_SERVICE_TEST_PG_URL=$(bash scripts/pg-test-server.sh url)";
    throw std::runtime_error("USER_SERVICE_TEST_PG_URL is not set");
  }
  return url;
}

// The password embedded in the URL (to check it never leaks into messages).
inline std::string url_password(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  const auto colon = url.find(':', scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos || colon > at) return {};
  return url.substr(colon + 1, at - colon - 1);
}

// `url` with its database name replaced.
inline std::string with_database(const std::string& url, const std::string& dbname) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme + 3);
  const auto query = url.find('?', scheme + 3);
  std::string base = url.substr(0, slash == std::string::npos ? query : slash);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + dbname + rest;
}

// Runs a coroutine on `ctx` until it completes (other work on ctx may stay pending) and
// returns its result or rethrows its exception.
template <class T>
T run(asio::io_context& ctx, asio::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(ctx, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
    done = true;
  });
  ctx.restart();
  while (!done) ctx.run_one();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

inline void run(asio::io_context& ctx, asio::awaitable<void> task) {
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(ctx, std::move(task), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  ctx.restart();
  while (!done) ctx.run_one();
  if (error) std::rethrow_exception(error);
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

inline asio::awaitable<std::unique_ptr<kit::db::pg::Connection>> connect(
    std::string url, std::string application_name = "user-service-test") {
  kit::db::pg::ConnectOptions options;
  options.conninfo = std::move(url);
  options.application_name = std::move(application_name);
  co_return co_await kit::db::pg::Connection::connect(co_await asio::this_coro::executor,
                                                      std::move(options));
}

// Pool options for the pool tests: two connections plus one overflow, generous timeouts.
inline kit::db::pg::PoolOptions test_pool_options(std::string application_name) {
  kit::db::pg::PoolOptions o;
  o.conninfo = server_url();
  o.application_name = std::move(application_name);
  o.size = 2;
  o.max_overflow = 1;
  o.acquire_timeout = 2s;
  o.connect_timeout = 5s;
  o.statement_timeout = 5s;
  return o;
}

// Backends of one application_name, seen from a separate monitoring connection.
inline asio::awaitable<int> count_backends(kit::db::pg::Connection& monitor,
                                           const std::string& app) {
  const kit::db::pg::Params p{app};
  kit::db::pg::Result r = co_await monitor.query(
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", p);
  co_return std::stoi(std::string(r.get(0, 0).value_or("0")));
}

inline std::string unique_name(const std::string& prefix) {
  std::string id = kit::util::uuid_v4();
  std::string out = prefix;
  for (char c : id) {
    if (c != '-') out += c;
  }
  return out.substr(0, 60);
}

// A database created for one test or suite and dropped (forcibly) when it goes away.
class TempDatabase {
 public:
  explicit TempDatabase(const std::string& prefix = "ustest_")
      : admin_url_(server_url()), name_(unique_name(prefix)) {
    asio::io_context ctx;
    run(ctx, admin("CREATE DATABASE " + name_));
    url_ = with_database(admin_url_, name_);
  }
  ~TempDatabase() {
    // WITH (FORCE) cannot terminate an autovacuum worker that happens to be in the database
    // ("must be a member of the role whose process is being terminated"); it leaves within
    // moments, so a few bounded retries.
    for (int attempt = 1;; ++attempt) {
      try {
        asio::io_context ctx;
        run(ctx, admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"));
        return;
      } catch (const std::exception& e) {
        if (attempt == 10) {
          ADD_FAILURE() << "dropping " << name_ << ": " << e.what();
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  asio::awaitable<void> admin(std::string sql) {
    auto conn = co_await connect(admin_url_, "user-service-test-admin");
    co_await conn->exec(sql);
  }
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace pg_test
