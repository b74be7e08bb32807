// End-to-end: graceful shutdown (SPEC §6) and connection limits and timeouts (SPEC §2).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/service_process.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

TEST(Lifecycle, SigtermAnswersRequestsInFlightThenExitsZero) {
  ServiceProcess svc(test_env({{"SHUTDOWN_GRACE_SECONDS", "10"}}));
  // Requests under way: headers sent and half of the body, so the server is mid-request.
  std::vector<std::unique_ptr<Connection>> in_flight;
  for (int i = 0; i < 8; ++i) {
    auto c = std::make_unique<Connection>(svc.port());
    c->send("POST /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: inflight-" + std::to_string(i) +
            "\r\nContent-Length: 10\r\n\r\n12345");
    in_flight.push_back(std::move(c));
  }
  // An idle keep-alive connection that has already been served.
  Connection idle(svc.port());
  idle.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(idle.read_response().result_int(), 200);
  // Make sure the server has read the partial requests before the signal.
  std::this_thread::sleep_for(200ms);

  svc.signal(SIGTERM);
  ASSERT_TRUE(svc.wait_for_line(
      [](const std::string& l) { return l.find("shutdown_requested") != std::string::npos; }, 5s));
  // The idle connection is closed cleanly (FIN, not reset).
  EXPECT_TRUE(idle.closed_by_peer(5s));
  // The requests under way complete and are answered in full, with Connection: close.
  for (int i = 0; i < 8; ++i) {
    in_flight[i]->send("67890");
    const auto res = in_flight[i]->read_response();
    EXPECT_EQ(res.result_int(), 405);
    EXPECT_EQ(res["X-Request-ID"], "inflight-" + std::to_string(i));
    EXPECT_FALSE(res.keep_alive());
    auto doc = parse_json(res.body());
    EXPECT_EQ(str(doc, "error"), "METHOD_NOT_ALLOWED");
  }
  EXPECT_EQ(svc.wait_exit(10s), 0);
  EXPECT_TRUE(svc.wait_for_line(
      [](const std::string& l) { return l.find("\"service_stopped\"") != std::string::npos; }, 1s));
}

TEST(Lifecycle, ReadinessTurns503WhileDraining) {
  ServiceProcess svc(test_env({{"SHUTDOWN_GRACE_SECONDS", "10"}}));
  // Keep the drain open with a request under way.
  Connection busy(svc.port());
  busy.send("POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n1");
  Connection probe(svc.port());
  probe.send("GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(probe.read_response().result_int(), 200);
  // Pipelined after the signal on an already-open connection mid-request.
  Connection probe2(svc.port());
  probe2.send("GET /health/ready HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n");
  std::this_thread::sleep_for(200ms);
  svc.signal(SIGTERM);
  ASSERT_TRUE(svc.wait_for_line(
      [](const std::string& l) { return l.find("shutdown_requested") != std::string::npos; }, 5s));
  std::this_thread::sleep_for(100ms);
  probe2.send("x");
  const auto res = probe2.read_response();
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res.body(), R"({"status":"shutting_down"})");
  busy.send("2");
  EXPECT_EQ(busy.read_response().result_int(), 405);
  EXPECT_EQ(svc.wait_exit(10s), 0);
}

TEST(Lifecycle, SteadyLoadDuringSigtermLosesNoAnsweredRequest) {
  ServiceProcess svc(test_env({{"SHUTDOWN_GRACE_SECONDS", "10"}}));
  // Each client pipelines a batch on its own connection; the signal lands mid-batch. Every
  // request that was sent before the server closed must be answered completely, and no
  // connection may be reset.
  std::atomic<int> answered{0}, resets{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      try {
        Connection c(svc.port());
        std::string batch;
        for (int i = 0; i < 200; ++i) {
          batch += "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: c" + std::to_string(t) +
                   "-" + std::to_string(i) + "\r\n\r\n";
        }
        c.send(batch);
        for (int i = 0; i < 200; ++i) {
          const auto res = c.read_response();
          if (res.result_int() == 200 && res.body() == R"({"status":"alive"})") ++answered;
          if (!res.keep_alive()) break;
        }
      } catch (const std::exception& e) {
        if (std::string(e.what()).find("reset") != std::string::npos) ++resets;
      }
    });
  }
  std::this_thread::sleep_for(5ms);
  svc.signal(SIGTERM);
  for (auto& c : clients) c.join();
  EXPECT_EQ(resets.load(), 0);
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(svc.wait_exit(10s), 0);
}

TEST(Lifecycle, ANewConnectionMaySendItsFirstRequestEarlyInTheDrain) {
  ServiceProcess svc(test_env({{"SHUTDOWN_GRACE_SECONDS", "10"}}));
  Connection fresh(svc.port());  // connected, request not sent yet
  std::this_thread::sleep_for(100ms);
  svc.signal(SIGTERM);
  ASSERT_TRUE(svc.wait_for_line(
      [](const std::string& l) { return l.find("shutdown_requested") != std::string::npos; }, 5s));
  fresh.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto res = fresh.read_response();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(svc.wait_exit(10s), 0);
}

TEST(Lifecycle, SecondSignalExitsAtOnce) {
  ServiceProcess svc(test_env({{"SHUTDOWN_GRACE_SECONDS", "60"}}));
  Connection busy(svc.port());
  busy.send("POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n1");
  std::this_thread::sleep_for(100ms);
  svc.signal(SIGTERM);
  ASSERT_TRUE(svc.wait_for_line(
      [](const std::string& l) { return l.find("shutdown_requested") != std::string::npos; }, 5s));
  EXPECT_FALSE(svc.wait_exit(300ms)) << "the drain waits for the request under way";
  svc.signal(SIGINT);
  const auto code = svc.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_NE(*code, 0);
}

// Found by ThreadSanitizer (issue #9): when the grace ran out while passwords were still being
// hashed, the hasher's worker threads later resumed their requests on I/O contexts the server
// had already destroyed (a use-after-free that ASan and TSan builds report, exit != 0).
TEST(Lifecycle, ShutdownWhilePasswordsAreHashingExitsCleanly) {
  // About a second per hash, so both are still running when the drain ends at once.
  ServiceProcess svc(test_env({{"SHUTDOWN_GRACE_SECONDS", "0"},
                               {"PASSWORD_HASH_MEMORY_KIB", "131072"},
                               {"PASSWORD_HASH_ITERATIONS", "10"}}));
  std::vector<std::unique_ptr<Connection>> registering;
  for (int i = 0; i < 2; ++i) {
    const std::string body = R"({"email":"hashing)" + std::to_string(i) +
                             R"(@example.com","name":"H","password":"correct horse battery"})";
    auto c = std::make_unique<Connection>(svc.port());
    c->send(
        "POST /api/v1/users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    registering.push_back(std::move(c));
  }
  std::this_thread::sleep_for(300ms);  // the server has read both and started hashing
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait_exit(30s), 0);
}

TEST(Lifecycle, IdleKeepAliveConnectionsAreClosedAfterTheTimeout) {
  ServiceProcess svc(test_env({{"KEEPALIVE_TIMEOUT_SECONDS", "0.3"}}));
  Connection c(svc.port());
  c.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(c.read_response().result_int(), 200);
  EXPECT_TRUE(c.closed_by_peer(5s));
}

TEST(Lifecycle, SlowClientsAreCutAtTheRequestTimeout) {
  ServiceProcess svc(test_env({{"REQUEST_TIMEOUT_SECONDS", "0.5"}}));
  Connection slow(svc.port());
  slow.send("GET /health/live HTTP/1.1\r\nHost: x\r\n");  // headers never finish
  // Others are served meanwhile.
  EXPECT_EQ(get(svc.port(), "/health/live").result_int(), 200);
  EXPECT_TRUE(slow.closed_by_peer(5s));
}

TEST(Lifecycle, ConnectionsBeyondTheLimitWaitInTheBacklog) {
  ServiceProcess svc(test_env({{"MAX_CONNECTIONS", "2"}, {"WORKERS", "1"}}));
  auto a = std::make_unique<Connection>(svc.port());
  auto b = std::make_unique<Connection>(svc.port());
  for (auto* c : {a.get(), b.get()}) {
    c->send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(c->read_response().result_int(), 200);
  }
  Connection third(svc.port());  // completes the TCP handshake in the kernel backlog
  third.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THROW(third.read_response(false, 500ms), std::runtime_error) << "served beyond the limit";
  a.reset();  // frees a slot
  EXPECT_EQ(third.read_response(false, 5s).result_int(), 200);
}

TEST(Lifecycle, PortZeroPicksAFreePortAndLogsIt) {
  ServiceProcess one(test_env());
  ServiceProcess two(test_env());
  EXPECT_NE(one.port(), 0);
  EXPECT_NE(one.port(), two.port());
}

}  // namespace
}  // namespace e2e
