#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <exception>

#include "kit/log/log.hpp"
#include "service/cli/commands.hpp"
#include "service/cli/load_settings.hpp"
#include "service/database.hpp"

namespace user_service::cli {

namespace {

boost::asio::awaitable<void> run_migrate(const Settings& settings, bool status_only) {
  const boost::asio::any_io_executor executor = co_await boost::asio::this_coro::executor;
  std::vector<boost::asio::any_io_executor> executors(1, executor);
  auto db = co_await Database::open(settings, std::move(executors));
  std::exception_ptr failure;
  try {
    if (status_only) {
      for (const auto& line : co_await db->migration_status()) std::printf("%s\n", line.c_str());
    } else {
      const auto applied = co_await db->migrate();
      for (const auto& name : applied) std::printf("applied %s\n", name.c_str());
      std::printf("%zu migration%s applied\n", applied.size(), applied.size() == 1 ? "" : "s");
    }
  } catch (...) {
    failure = std::current_exception();
  }
  co_await db->close();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

// `user-service migrate [--status]`: applies pending migrations (or lists them) and exits.
int migrate(bool status_only) {
  auto settings = load_settings_or_report();
  if (!settings) return kExitConfig;
  kit::log::init({.level = settings->log_level, .format = settings->log_format, .async = false});
  boost::asio::io_context ctx;
  auto done =
      boost::asio::co_spawn(ctx, run_migrate(*settings, status_only), boost::asio::use_future);
  ctx.run();
  try {
    done.get();
  } catch (const std::exception& e) {
    kit::log::error("migrate", "migration_failed", {{"message", e.what()}});
    std::fprintf(stderr, "migrate: %s\n", e.what());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace user_service::cli
