#pragma once
// The application factory: builds the object graph from the settings (settings → logger →
// database → repositories → services → routes → server) and owns its lifetime. The constructor
// builds everything and connects nothing; serve() starts the dependencies, then listens. The
// members are declared in build order, so they are destroyed in reverse: nothing outlives what
// it uses. Nothing here is global; a test can build the same graph with other settings.
#include <atomic>
#include <memory>

#include "kit/health/registry.hpp"
#include "kit/http/pipeline.hpp"
#include "kit/http/router.hpp"
#include "kit/http/server.hpp"
#include "kit/metrics/registry.hpp"
#include "kit/otlp/exporter.hpp"
#include "kit/ratelimit/guard.hpp"
#include "kit/ratelimit/limiter.hpp"
#include "kit/redis/client.hpp"
#include "service/database.hpp"
#include "service/outbox_module.hpp"
#include "service/settings.hpp"
#include "service/users_module.hpp"

namespace user_service {

class App {
 public:
  explicit App(Settings settings);
  ~App() = default;
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Starts the dependencies, listens, and serves until a signal's graceful shutdown completes.
  // Throws when start-up fails (the caller logs and exits 1).
  void serve();

  // The route table (the OpenAPI end-to-end test compares it with the served document).
  const kit::http::Router& router() const noexcept { return router_; }

 private:
  void build_metrics();
  void build_rate_limiting();
  void build_tracing();
  void build_pipeline();
  void build_routes();
  std::vector<boost::asio::any_io_executor> io_threads() const;
  boost::asio::awaitable<void> start();
  boost::asio::awaitable<void> stop();

  Settings settings_;
  // Prometheus metrics (null when METRICS_ENABLED=false: nothing is measured): first, so it
  // outlives everything that reports into it.
  std::unique_ptr<kit::metrics::Registry> metrics_;
  std::vector<kit::metrics::Registration> metric_callbacks_;  // process and rate-limit backend
  // Tracing (docs/tracing.md): the span exporter when an OTLP endpoint is set (its thread sends
  // what the Tracing link queues), and its metrics. Before the pipeline, which refers to it.
  std::unique_ptr<kit::otlp::BatchExporter> tracer_;
  std::vector<kit::metrics::Registration> tracer_metrics_;
  kit::health::Registry health_;
  std::atomic<bool> shutting_down_{false};  // readiness turns 503 once set
  kit::http::Router router_;
  kit::http::Pipeline pipeline_;
  // The I/O threads; the server reads the pipeline and the router, declared before it. What
  // follows runs on these threads and goes before they do.
  std::unique_ptr<kit::http::Server> server_;
  // Rate limiting (docs/configuration.md): Redis client when REDIS_URL is set (a connection per
  // I/O thread), the limiter (null when RATE_LIMIT_ENABLED=false) and the `auth` policy guard
  // that the token and registration routes apply.
  std::shared_ptr<kit::redis::Client> redis_;
  std::shared_ptr<kit::ratelimit::Limiter> limiter_;
  std::unique_ptr<kit::ratelimit::Guard> auth_guard_;
  std::unique_ptr<Database> database_;  // created here, connected by start()
  // The events' delivery from the database's outbox (docs/events.md).
  std::unique_ptr<OutboxModule> outbox_;
  // Users + auth on the database's repository: hasher pool, JWT, services, routes. Last, so it
  // is destroyed first: its hashing threads resume requests on the I/O threads.
  std::unique_ptr<UsersModule> users_;
};

}  // namespace user_service
