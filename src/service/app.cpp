#include "service/app.hpp"

#include <vector>

#include "kit/config/database_url.hpp"
#include "kit/config/mask.hpp"
#include "kit/config/redis_url.hpp"
#include "kit/log/log.hpp"
#include "kit/metrics/process.hpp"
#include "kit/middleware/access_log.hpp"
#include "kit/middleware/client_ip.hpp"
#include "kit/middleware/cors.hpp"
#include "kit/middleware/error_mapping.hpp"
#include "kit/middleware/metrics.hpp"
#include "kit/middleware/rate_limit.hpp"
#include "kit/middleware/request_id.hpp"
#include "kit/middleware/security_headers.hpp"
#include "kit/middleware/tracing.hpp"
#include "kit/ratelimit/memory_limiter.hpp"
#include "kit/ratelimit/redis_limiter.hpp"
#include "service/api/routes/docs.hpp"
#include "service/api/routes/health.hpp"
#include "service/api/routes/metrics.hpp"
#include "service/api/routes/well_known.hpp"

namespace user_service {

namespace {

kit::http::ServerOptions server_options(const Settings& s) {
  return kit::http::ServerOptions{
      .host = s.host,
      .port = s.port,
      .threads = s.workers,
      .max_body_bytes = s.max_body_bytes,
      .max_header_bytes = 16 * 1024,
      .request_timeout = s.request_timeout,
      .keepalive_timeout = s.keepalive_timeout,
      .max_connections = s.max_connections,
      .shutdown_delay = s.shutdown_delay,
      .shutdown_grace = s.shutdown_grace,
  };
}

// The Redis backend's own counters, read at scrape time (the callbacks share the limiter).
void register_limiter_metrics(kit::metrics::Registry& metrics,
                              const std::shared_ptr<kit::ratelimit::RedisLimiter>& limiter,
                              std::vector<kit::metrics::Registration>& out) {
  out.push_back(metrics.callback(
      "rate_limit_backend_errors_total",
      "Rate-limit decisions the Redis backend could not make (unreachable or too slow).",
      kit::metrics::Type::counter, {},
      [limiter](kit::metrics::Sink& s) { s.add(static_cast<double>(limiter->failures_total())); }));
  out.push_back(metrics.callback(
      "rate_limit_fail_open_total",
      "Requests allowed without a rate-limit decision because Redis failed (RATE_LIMIT_FAIL_OPEN).",
      kit::metrics::Type::counter, {}, [limiter](kit::metrics::Sink& s) {
        s.add(static_cast<double>(limiter->fail_open_total()));
      }));
  out.push_back(metrics.callback(
      "rate_limit_backend_calls_total",
      "Rate-limit decisions that called the Redis script (the others were served from a lease).",
      kit::metrics::Type::counter, {},
      [limiter](kit::metrics::Sink& s) { s.add(static_cast<double>(limiter->script_calls())); }));
}

}  // namespace

App::App(Settings settings) : settings_(std::move(settings)) {
  build_metrics();
  // The server only keeps references to the pipeline and the router, filled in below.
  server_ = std::make_unique<kit::http::Server>(server_options(settings_), pipeline_, router_);
  build_rate_limiting();
  build_tracing();
  database_ = Database::create(settings_, io_threads(), metrics_.get());
  // After build_tracing(): the outbox's outbound calls are spans of the exporter.
  outbox_ =
      std::make_unique<OutboxModule>(settings_, database_->outbox(), metrics_.get(), tracer_.get());
  users_ =
      std::make_unique<UsersModule>(settings_, database_->users(), database_->sessions(),
                                    database_->account_tokens(), outbox_->events(), metrics_.get());
  build_pipeline();
  build_routes();
  server_->on_shutdown([this] {
    // Readiness turns 503 first so load balancers stop sending new traffic.
    shutting_down_.store(true, std::memory_order_release);
  });
  server_->before_stop([this] { return stop(); });
}

std::vector<boost::asio::any_io_executor> App::io_threads() const {
  std::vector<boost::asio::any_io_executor> executors;
  for (std::size_t i = 0; i < server_->threads(); ++i) executors.push_back(server_->executor(i));
  return executors;
}

// ---- metrics ----
void App::build_metrics() {
  if (!settings_.metrics_enabled) return;
  metrics_ = std::make_unique<kit::metrics::Registry>();
  metrics_->gauge("build_info", "Always 1; the version label names the running build.", {"version"})
      .labels(settings_.app_version)
      .set(1);
  metric_callbacks_ = kit::metrics::register_process_metrics(*metrics_);
  metric_callbacks_.push_back(metrics_->callback(
      "log_lines_dropped_total", "Log lines dropped because stdout did not keep up.",
      kit::metrics::Type::counter, {},
      [](kit::metrics::Sink& s) { s.add(static_cast<double>(kit::log::dropped_lines())); }));
}

// ---- rate limiting ----
void App::build_rate_limiting() {
  const kit::ratelimit::Policy auth_policy{.name = "auth",
                                           .limit = settings_.login_rate_limit_per_minute,
                                           .window = std::chrono::seconds{60}};
  if (!settings_.redis_url.empty()) {
    // Validated by load_settings(); the client never logs the URL or the password.
    kit::redis::ClientOptions options{.url = kit::config::parse_redis_url(settings_.redis_url)};
    // One connection per I/O thread: a rate-limit decision never leaves its thread.
    redis_ = std::make_shared<kit::redis::Client>(io_threads(), std::move(options));
  }
  if (settings_.rate_limit_enabled) {
    if (redis_) {
      auto redis_limiter = std::make_shared<kit::ratelimit::RedisLimiter>(
          redis_, kit::ratelimit::RedisLimiterOptions{.fail_open = settings_.rate_limit_fail_open});
      if (metrics_) register_limiter_metrics(*metrics_, redis_limiter, metric_callbacks_);
      limiter_ = std::move(redis_limiter);
    } else {
      limiter_ = std::make_shared<kit::ratelimit::MemoryLimiter>();
    }
  }
  // A null limiter makes the guard a no-op (RATE_LIMIT_ENABLED=false).
  auth_guard_ = std::make_unique<kit::ratelimit::Guard>(limiter_, auth_policy, metrics_.get());
}

// ---- tracing ----
void App::build_tracing() {
  if (settings_.otel_traces_endpoint.empty()) return;
  std::vector<kit::trace::Attribute> resource{
      {"service.name", settings_.otel_service_name},
      {"service.version", settings_.app_version},
      {"deployment.environment.name", std::string(to_string(settings_.environment))},
      {"telemetry.sdk.language", std::string("cpp")}};
  for (const auto& a : settings_.otel_resource_attributes) {
    if (a.key != "service.name") resource.push_back(a);
  }
  tracer_ = std::make_unique<kit::otlp::BatchExporter>(
      kit::otlp::ExporterOptions{.url = settings_.otel_traces_endpoint,
                                 .headers = settings_.otel_headers,
                                 .encoding = settings_.otel_encoding,
                                 .resource = std::move(resource),
                                 .scope = {"user-service", settings_.app_version},
                                 .schedule_delay = settings_.otel_bsp_schedule_delay});
  kit::log::info("tracing", "tracing_exporting",
                 {{"endpoint", kit::config::mask_url_password(settings_.otel_traces_endpoint)},
                  {"protocol", kit::otlp::protocol_name(settings_.otel_encoding)},
                  {"sampler", settings_.otel_sampler.name()},
                  {"ratio", settings_.otel_sampler.ratio()}});
  if (!metrics_) return;
  kit::otlp::BatchExporter* exporter = tracer_.get();
  tracer_metrics_.push_back(metrics_->callback(
      "otel_spans_dropped_total",
      "Spans not exported, by reason: queue_full (the exporter's queue of 2048 was full: the "
      "collector is slower than the traffic) or export_failed (the collector refused or did not "
      "answer a batch three times).",
      kit::metrics::Type::counter, {"reason"}, [exporter](kit::metrics::Sink& sink) {
        const kit::otlp::ExporterStats stats = exporter->stats();
        sink.add(static_cast<double>(stats.dropped_full), {"queue_full"});
        sink.add(static_cast<double>(stats.dropped_failed), {"export_failed"});
      }));
  tracer_metrics_.push_back(
      metrics_->callback("otel_spans_exported_total", "Spans the collector accepted.",
                         kit::metrics::Type::counter, {}, [exporter](kit::metrics::Sink& sink) {
                           sink.add(static_cast<double>(exporter->stats().exported));
                         }));
}

void App::build_pipeline() {
  // Order matters (docs/life-of-a-request.md "The middleware chain"):
  //   RequestId → ClientIp → Tracing → AccessLog → Metrics → SecurityHeaders → Cors →
  //   ErrorMapping → RateLimit → router
  // correlation first so every later link logs with the request id; the client address before
  // the access log and the limiter read it; CORS outside error mapping so error envelopes get
  // its headers too, and preflights are answered before the router (no 405); rate limiting
  // inside error mapping so its 429 (and a fail-closed 503) is rendered as an envelope.
  namespace mw = kit::middleware;
  pipeline_.use(std::make_shared<mw::RequestId>())
      .use(std::make_shared<mw::ClientIp>(settings_.trusted_proxies));
  // The SERVER span sees the client address and everything after it, and the final status.
  if (tracer_) pipeline_.use(std::make_shared<mw::Tracing>(settings_.otel_sampler, *tracer_));
  pipeline_.use(std::make_shared<mw::AccessLog>());
  // Metrics next to the access log: outside ErrorMapping, so error envelopes are counted with
  // their final status like the access log reports it.
  if (metrics_) pipeline_.use(std::make_shared<mw::Metrics>(*metrics_));
  pipeline_.use(
      std::make_shared<mw::SecurityHeaders>(settings_.environment == Environment::production));
  if (!settings_.cors_allow_origins.empty()) {
    pipeline_.use(std::make_shared<mw::Cors>(
        mw::CorsOptions{.allow_origins = settings_.cors_allow_origins,
                        .allow_credentials = settings_.cors_allow_credentials}));
  }
  pipeline_.use(std::make_shared<mw::ErrorMapping>());
  if (limiter_) {
    const kit::ratelimit::Policy policy{.name = "default",
                                        .limit = settings_.rate_limit_per_minute,
                                        .window = std::chrono::seconds{60}};
    pipeline_.use(std::make_shared<mw::RateLimit>(limiter_, policy, metrics_.get()));
  }
}

void App::build_routes() {
  api::register_health_routes(router_, health_, shutting_down_);
  if (metrics_) api::register_metrics_routes(router_, *metrics_);
  users_->register_routes(router_, *auth_guard_);
  api::register_well_known_routes(router_, users_->jwt(), settings_);
  // Last: the OpenAPI document is built from the routes registered before it.
  if (settings_.docs_enabled) api::register_docs_routes(router_, settings_);
}

boost::asio::awaitable<void> App::start() {
  // Start-up order (docs/operations.md "Start-up sequence"): database (wait, migrate if
  // configured) → Redis → listen.
  co_await database_->start();
  if (settings_.migrate_on_start) co_await database_->migrate();  // logs each migration
  health_.add("database", [this]() -> boost::asio::awaitable<void> {
    try {
      co_await database_->ping();
    } catch (const std::exception&) {
      // Only a fixed text reaches the probe body: never the URL, host or credentials.
      throw kit::health::CheckFailed("database unreachable");
    }
  });
  if (redis_) {
    // The service starts without Redis and reports degraded until it answers
    // (docs/operations.md "Start-up sequence").
    try {
      co_await redis_->ping();
      kit::log::info("app", "redis_connected", {});
    } catch (const std::exception& e) {
      kit::log::warning("app", "redis_unavailable", {{"error", e.what()}});
    }
    health_.add("redis", [this]() -> boost::asio::awaitable<void> {
      try {
        co_await redis_->ping();
      } catch (const std::exception&) {
        // A fixed text: never the URL, host or password.
        throw kit::health::CheckFailed("redis unreachable");
      }
    });
  }
  users_->start_upkeep(server_->executor(0));
  outbox_->start(server_->executor(0));
  const auto endpoint = server_->listen();
  kit::log::info("app", "service_started",
                 {{"address", endpoint.address().to_string()},
                  {"port", endpoint.port()},
                  {"version", settings_.app_version},
                  {"environment", to_string(settings_.environment)},
                  {"database", kit::config::to_string(settings_.database_kind)},
                  {"workers", settings_.workers}});
  co_return;
}

boost::asio::awaitable<void> App::stop() {
  co_await users_->stop_upkeep();
  co_await outbox_->stop();
  if (redis_) co_await redis_->close();
  co_return;
}

void App::serve() {
  for (const auto& warning : settings_.warnings) {
    kit::log::warning("settings", "configuration_warning", {{"message", warning}});
  }
  server_->run([this] { return start(); });
  kit::log::info("app", "service_stopped", {{"version", settings_.app_version}});
}

}  // namespace user_service
