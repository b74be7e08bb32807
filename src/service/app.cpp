#include "service/app.hpp"

#include "kit/log/log.hpp"
#include "kit/middleware/access_log.hpp"
#include "kit/middleware/error_mapping.hpp"
#include "kit/middleware/request_id.hpp"
#include "kit/middleware/security_headers.hpp"
#include "service/api/routes/health.hpp"

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
      .shutdown_grace = s.shutdown_grace,
  };
}

}  // namespace

App::App(Settings settings) : settings_(std::move(settings)) {
  build_pipeline();
  build_routes();
  server_ = std::make_unique<kit::http::Server>(server_options(settings_), pipeline_, router_);
  server_->on_shutdown([this] {
    // Readiness turns 503 first so load balancers stop sending new traffic.
    shutting_down_.store(true, std::memory_order_release);
  });
  server_->before_stop([this] { return stop(); });
}

App::~App() = default;

void App::build_pipeline() {
  // Order matters (SPEC §3, ARCHITECTURE.md): correlation first so every later link logs with
  // the request id; error mapping last so everything above sees a rendered response.
  pipeline_.use(std::make_shared<kit::middleware::RequestId>())
      .use(std::make_shared<kit::middleware::AccessLog>())
      .use(std::make_shared<kit::middleware::SecurityHeaders>(settings_.environment ==
                                                              Environment::production))
      .use(std::make_shared<kit::middleware::ErrorMapping>());
}

void App::build_routes() {
  api::register_health_routes(router_, health_, shutting_down_);
  users_ = std::make_unique<UsersModule>(
      settings_, [this]() -> repositories::UserRepository& { return database_->users(); });
  users_->register_routes(router_);
}

boost::asio::awaitable<void> App::start() {
  // SPEC §6 order: database (wait, migrate if configured) → routes → listen.
  database_ = co_await Database::open(settings_, server_->executor(0));
  if (settings_.migrate_on_start) co_await database_->migrate();  // logs each migration
  health_.add("database", [this]() -> boost::asio::awaitable<void> {
    try {
      co_await database_->ping();
    } catch (const std::exception&) {
      // Only a fixed text reaches the probe body: never the URL, host or credentials.
      throw kit::health::CheckFailed("database unreachable");
    }
  });
  const auto endpoint = server_->listen();
  kit::log::info("app", "service_started",
                 {{"address", endpoint.address().to_string()},
                  {"port", endpoint.port()},
                  {"version", settings_.app_version},
                  {"environment", to_string(settings_.environment)},
                  {"database", database_->kind()},
                  {"workers", settings_.workers}});
  co_return;
}

boost::asio::awaitable<void> App::stop() {
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
