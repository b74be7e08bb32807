// End-to-end: graceful shutdown (docs/operations.md "Graceful shutdown (drain)") and connection
// limits and timeouts (docs/configuration.md).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/service_process.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

// What a client's connection pool sees when it takes a kept-alive connection out to reuse it
// (what Node's agent, urllib3 and nginx's upstream pool look at before writing).
enum class PooledState { open, closed_cleanly, reset };

PooledState pooled_state(Connection& c) {
  const int fd = c.socket().native_handle();
  pollfd pfd{fd, POLLIN, 0};
  if (poll(&pfd, 1, 0) <= 0) return PooledState::open;
  char byte;
  const ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return PooledState::closed_cleanly;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return PooledState::open;
  return PooledState::reset;  // an error, or bytes nobody asked for
}

bool logged(ServiceProcess& svc, const std::string& event) {
  return svc
      .wait_for_line(
          [&](const std::string& l) {
            return l.find("\"event\":\"" + event + "\"") != std::string::npos;
          },
          10s)
      .has_value();
}

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

// A client (or a proxy's upstream pool) holds kept-alive connections and goes on using them after
// the signal, as it does until the load balancer has taken the instance out. Every request it
// writes is answered (200, Connection: close); a pooled connection the server closed is seen
// closed (FIN) before anything is written on it; nothing is reset; nothing pooled is closed
// before the listener closes; new connections are accepted through SHUTDOWN_DELAY_SECONDS.
TEST(Lifecycle, PooledKeepAliveConnectionsAreServedThroughTheDrainNeverReset) {
  constexpr auto kDelay = 3s;
  ServiceProcess svc(test_env({{"SHUTDOWN_DELAY_SECONDS", "3"}, {"SHUTDOWN_GRACE_SECONDS", "10"}}));
  const std::string live = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
  // When each pooled connection is taken out again, counted from the signal: well before the
  // listener closes, and well after it closed (and the 1 s quiet period passed).
  const std::vector<std::chrono::milliseconds> before_close{0ms,    300ms,  700ms,
                                                            1100ms, 1500ms, 2000ms};
  const std::vector<std::chrono::milliseconds> after_close{4500ms, 5000ms};
  std::vector<std::unique_ptr<Connection>> pool;
  for (std::size_t i = 0; i < before_close.size() + after_close.size(); ++i) {
    pool.push_back(std::make_unique<Connection>(svc.port()));
    pool.back()->send(live);
    const auto res = pool.back()->read_response();
    ASSERT_EQ(res.result_int(), 200);
    ASSERT_TRUE(res.keep_alive());
  }

  svc.signal(SIGTERM);
  ASSERT_TRUE(logged(svc, "shutdown_requested"));
  const auto signalled = std::chrono::steady_clock::now();

  std::mutex mu;
  std::vector<std::string> failures;
  std::atomic<int> answered{0}, closed_before_write{0};
  auto fail = [&](std::string what) {
    std::lock_guard lock(mu);
    failures.push_back(std::move(what));
  };
  // Takes pooled connection i out at `at` and uses it the way a pool does.
  auto use = [&](std::size_t i, std::chrono::milliseconds at, bool must_be_open) {
    std::this_thread::sleep_until(signalled + at);
    Connection& c = *pool[i];
    const std::string who =
        "connection " + std::to_string(i) + " at +" + std::to_string(at.count()) + " ms";
    switch (pooled_state(c)) {
      case PooledState::reset:
        return fail(who + ": reset while pooled");
      case PooledState::closed_cleanly:
        ++closed_before_write;
        if (must_be_open) fail(who + ": closed before the listener closed");
        return;
      case PooledState::open:
        break;
    }
    try {
      c.send(live);
      const auto res = c.read_response(false, 10s);
      if (res.result_int() != 200 || res.keep_alive()) {
        return fail(who + ": " + std::to_string(res.result_int()) + " keep-alive " +
                    std::to_string(res.keep_alive()));
      }
      ++answered;
      if (!c.closed_by_peer(5s)) fail(who + ": not closed cleanly after Connection: close");
    } catch (const std::exception& e) {
      fail(who + ": request written, no answer: " + e.what());
    }
  };
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < before_close.size(); ++i)
    clients.emplace_back(use, i, before_close[i], true);
  for (std::size_t i = 0; i < after_close.size(); ++i) {
    clients.emplace_back(use, before_close.size() + i, after_close[i], false);
  }

  // New connections are still accepted while the load balancers catch up: served, readiness
  // 503, Connection: close.
  std::this_thread::sleep_until(signalled + 1s);
  try {
    Connection fresh(svc.port());
    fresh.send("GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto res = fresh.read_response();
    EXPECT_EQ(res.result_int(), 503);
    EXPECT_EQ(res.body(), R"({"status":"shutting_down"})");
    EXPECT_FALSE(res.keep_alive());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "a new connection 1 s after the signal: " << e.what();
  }
  for (auto& t : clients) t.join();

  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(answered.load(), static_cast<int>(before_close.size()));
  // The ones taken out long after the listener closed found them closed (FIN), nothing written.
  EXPECT_EQ(closed_before_write.load(), static_cast<int>(after_close.size()));
  EXPECT_GE(std::chrono::steady_clock::now() - signalled, kDelay);
  EXPECT_TRUE(logged(svc, "listener_closed"));
  EXPECT_EQ(svc.wait_exit(15s), 0);
  EXPECT_TRUE(logged(svc, "service_stopped"));
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

// Found by ThreadSanitizer: when the grace ran out while passwords were still being
// hashed, the hasher's worker threads later resumed their requests on I/O contexts the server
// had already destroyed (a use-after-free that ASan and TSan builds report, exit != 0).
TEST(Lifecycle, ShutdownWhilePasswordsAreHashingExitsCleanly) {
  // About a second per hash (128 MiB, 30 passes), so both are still running when the drain
  // ends at once.
  ServiceProcess svc(test_env({{"SHUTDOWN_GRACE_SECONDS", "0"},
                               {"PASSWORD_HASH_MEMORY_KIB", "131072"},
                               {"PASSWORD_HASH_ITERATIONS", "30"}}));
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
