// End-to-end: REQUEST_TIMEOUT_SECONDS bounds the handler too (README "Request timeout"). A handler
// that waits past it (here on a table lock held by another PostgreSQL session, with no statement
// timeout) is answered 503 SERVICE_UNAVAILABLE with Retry-After and the connection closes; the
// handler's work is cancelled (its wait for the database ends at the deadline; argon2 calls still
// queued are not run; no write begins), and the service goes on serving.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/exposition_parser.hpp"

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/pg_cluster.hpp"
#include "support/service_process.hpp"
#include "support/users_client.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

// A session of our own on the test cluster, to hold a lock the service's queries wait for.
class LockHolder {
 public:
  explicit LockHolder(const std::string& url) : conn_(PQconnectdb(url.c_str()), &PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      throw std::runtime_error(std::string("cannot connect: ") + PQerrorMessage(conn_.get()));
    }
  }
  void exec(const char* sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_.get(), sql), &PQclear);
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error(std::string(sql) + ": " + PQerrorMessage(conn_.get()));
    }
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

TEST(RequestTimeout, AHandlerPastTheTimeoutIs503WithRetryAfterAndTheConnectionCloses) {
  PgCluster pg;
  ServiceProcess svc(test_env({{"DATABASE_URL", pg.url()},
                               {"REQUEST_TIMEOUT_SECONDS", "1"},
                               {"DATABASE_STATEMENT_TIMEOUT_MS", "0"}}));
  UsersClient client(svc.port());
  const auto [id, token] = client.new_user(unique_email("slow"), unique_password());

  LockHolder locker(pg.url());
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");  // every read of users now waits

  Connection conn(svc.port());
  conn.send(Request{"GET",
                    "/api/v1/users/me",
                    {{"Authorization", "Bearer " + token}, {"X-Request-ID", "slow-handler-1"}},
                    ""}
                .serialize());
  // Before the handler was bounded, nothing came back until the lock went away.
  const HttpResponse res = conn.read_response(false, 20s);
  EXPECT_EQ(res.result_int(), 503) << res.body();
  const auto doc = parse_json(res.body());
  EXPECT_EQ(str(doc, "error"), "SERVICE_UNAVAILABLE");
  EXPECT_EQ(str(doc, "request_id"), "slow-handler-1");
  EXPECT_EQ(res["Retry-After"], "1");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(conn.closed_by_peer(5s));
  EXPECT_TRUE(svc.wait_for_line(
      [](const std::string& l) {
        return l.find("\"request_timed_out\"") != std::string::npos &&
               l.find("\"slow-handler-1\"") != std::string::npos;
      },
      5s));
  // The access log shows the 503 the client got.
  EXPECT_TRUE(svc.wait_for_line(
      [](const std::string& l) {
        return l.find("\"request_completed\"") != std::string::npos &&
               l.find("\"slow-handler-1\"") != std::string::npos &&
               l.find("\"status_code\":503") != std::string::npos;
      },
      5s));

  // The handler's work is cancelled while the lock is still held: its read stops waiting at the
  // deadline (the statement's late result is discarded). Before, the handler waited for the
  // lock and logged handler_finished_after_timeout once it went away.
  EXPECT_TRUE(svc.wait_for_line(
      [](const std::string& l) {
        return l.find("\"handler_cancelled\"") != std::string::npos &&
               l.find("\"slow-handler-1\"") != std::string::npos;
      },
      5s));
  // The lock goes away, and the service answers normally again on the same pooled connection.
  locker.exec("COMMIT");
  const auto after = client.call("GET", "/api/v1/users/me", token);
  EXPECT_EQ(after.result_int(), 200) << after.body();
}

bool logged_for(const ServiceProcess& svc, const std::string& event,
                const std::string& request_id) {
  return svc
      .wait_for_line(
          [&](const std::string& l) {
            return l.find("\"" + event + "\"") != std::string::npos &&
                   l.find("\"" + request_id + "\"") != std::string::npos;
          },
          60s)
      .has_value();
}

// Registrations whose hashing outlasts the timeout: every one is answered 503; the ones still
// waiting for a hashing worker at the deadline are dropped unrun (password_hash_dropped_total),
// the ones being hashed stop before their INSERT, and none of them creates an account — the
// same emails register afterwards. Before the handler was cancelled, every queued hash ran
// and every account was created (a later registration got 409).
TEST(RequestTimeout, TheWorkOfATimedOutRequestIsCancelledAndChangesNothing) {
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   ("timeout-cancel-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string database_url = "sqlite:///" + (dir / "users.db").string();
  constexpr int kRequests = 6;
  std::vector<std::string> emails;
  for (int i = 0; i < kRequests; ++i) emails.push_back(unique_email("cancelled"));
  const std::string password = unique_password();
  {
    // Seconds per hash on the 2-core machines here (128 MiB, 100 passes: about 3 s with the
    // AVX2 compression), far past the 1 s deadline: no registration can finish in time.
    ServiceProcess svc(test_env({{"DATABASE_URL", database_url},
                                 {"REQUEST_TIMEOUT_SECONDS", "1"},
                                 {"PASSWORD_HASH_MEMORY_KIB", "131072"},
                                 {"PASSWORD_HASH_ITERATIONS", "100"}}));
    std::vector<std::unique_ptr<Connection>> conns;
    for (int i = 0; i < kRequests; ++i) {
      conns.push_back(std::make_unique<Connection>(svc.port()));
      conns.back()->send(Request{"POST",
                                 "/api/v1/users/",
                                 {{"Content-Type", "application/json"},
                                  {"X-Request-ID", "cancelled-" + std::to_string(i)}},
                                 user_json(emails[i], "Cancelled", password)}
                             .serialize());
    }
    for (int i = 0; i < kRequests; ++i) {
      const HttpResponse res = conns[i]->read_response(false, 20s);
      EXPECT_EQ(res.result_int(), 503) << i << ": " << res.body();
      EXPECT_EQ(res["Retry-After"], "1");
    }
    for (int i = 0; i < kRequests; ++i) {
      EXPECT_TRUE(logged_for(svc, "handler_cancelled", "cancelled-" + std::to_string(i))) << i;
    }
    EXPECT_FALSE(svc.wait_for_line(
        [](const std::string& l) {
          return l.find("\"handler_finished_after_timeout\"") != std::string::npos ||
                 l.find("\"user_registered\"") != std::string::npos;
        },
        0s));

    const auto scrape = get(svc.port(), "/metrics");
    ASSERT_EQ(scrape.result_int(), 200);
    const auto metrics = metrics_test::parse_exposition(scrape.body());
    const double hashed =
        metrics
            .value("password_hash_seconds", "password_hash_seconds_count", {{"operation", "hash"}})
            .value_or(0);
    const double dropped =
        metrics.value("password_hash_dropped_total", metrics_test::Labels{}).value_or(-1);
    // Each hashing worker (one per core) took one job before the deadline; the rest were dropped.
    const int workers = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    EXPECT_EQ(hashed + dropped, kRequests);
    EXPECT_GE(dropped, std::max(0, kRequests - workers));
    EXPECT_LE(hashed, std::min(kRequests, workers));
  }
  // The same database, cheap hashing: every email is still free.
  ServiceProcess again(test_env({{"DATABASE_URL", database_url}}));
  UsersClient client(again.port());
  for (const std::string& email : emails) {
    EXPECT_EQ(client.register_user(email, "Again", password).result_int(), 201) << email;
  }
  std::filesystem::remove_all(dir);
}

TEST(RequestTimeout, FastHandlersAreUnaffectedAndKeepTheConnection) {
  ServiceProcess svc(test_env({{"REQUEST_TIMEOUT_SECONDS", "1"}}));
  Connection conn(svc.port());
  for (int i = 0; i < 20; ++i) {
    conn.send(Request{"GET", "/health/live", {}, ""}.serialize());
    const HttpResponse res = conn.read_response();
    ASSERT_EQ(res.result_int(), 200) << res.body();
    ASSERT_TRUE(res.keep_alive());
  }
}

}  // namespace
}  // namespace e2e
