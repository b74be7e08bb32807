// End-to-end: REQUEST_TIMEOUT_SECONDS bounds the handler too (README "Configuration"). A handler
// that waits past it (here on a table lock held by another PostgreSQL session, with no statement
// timeout) is answered 503 SERVICE_UNAVAILABLE with Retry-After and the connection closes; the
// handler's late result is dropped and logged, and the service goes on serving.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

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

  // The lock goes away: the abandoned handler finishes (its result dropped, logged), and the
  // service answers normally again.
  locker.exec("COMMIT");
  EXPECT_TRUE(svc.wait_for_line(
      [](const std::string& l) {
        return l.find("\"handler_finished_after_timeout\"") != std::string::npos &&
               l.find("\"slow-handler-1\"") != std::string::npos;
      },
      10s));
  const auto after = client.call("GET", "/api/v1/users/me", token);
  EXPECT_EQ(after.result_int(), 200) << after.body();
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
