#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include <sodium.h>

#include "kit/errors/app_error.hpp"
#include "kit/json/writer.hpp"
#include "kit/log/log.hpp"
#include "service/cli/commands.hpp"
#include "service/cli/load_settings.hpp"
#include "service/database.hpp"
#include "service/outbox_module.hpp"
#include "service/schemas/users.hpp"
#include "service/schemas/validation.hpp"
#include "service/users_module.hpp"

namespace user_service::cli {

namespace {

// ADMIN_PASSWORD when set, else the first line of stdin (never argv: it would show in `ps`).
std::optional<std::string> read_password() {
  if (const char* env = std::getenv("ADMIN_PASSWORD"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

boost::asio::awaitable<services::AdminResult> run_create_admin(const Settings& settings,
                                                               schemas::UserCreate request) {
  const boost::asio::any_io_executor executor = co_await boost::asio::this_coro::executor;
  std::vector<boost::asio::any_io_executor> executors(1, executor);
  auto db = co_await Database::open(settings, std::move(executors));
  std::exception_ptr failure;
  services::AdminResult result;
  try {
    if (settings.migrate_on_start) co_await db->migrate();
    UsersModule module(settings, db->users(), db->sessions(), db->account_tokens(),
                       events_for(settings));
    result = co_await module.users().create_or_promote_admin(std::move(request));
  } catch (...) {
    failure = std::current_exception();
  }
  co_await db->close();
  if (failure) std::rethrow_exception(failure);
  co_return result;
}

}  // namespace

// `user-service create-admin --email E --name N`: validates like registration, then creates the
// admin or promotes the existing user with that email.
int create_admin(const std::string& email, const std::string& name) {
  auto settings = load_settings_or_report();
  if (!settings) return kExitConfig;
  kit::log::init({.level = settings->log_level, .format = settings->log_format, .async = false});

  auto password = read_password();
  if (!password) {
    std::fprintf(stderr, "create-admin: no password: set ADMIN_PASSWORD or pipe it on stdin\n");
    return kExitUsage;
  }
  schemas::UserCreate request;
  schemas::Validator v;
  auto checked_email = v.check_string(email, schemas::fields::kEmail);
  auto checked_name = v.check_string(name, schemas::fields::kName);
  if (!kit::json::is_valid_utf8(*password)) {
    v.add("invalid_value", "Password must be valid UTF-8", "password");
  } else {
    v.check_string(*password, schemas::fields::kPassword);
  }
  if (!kit::json::is_valid_utf8(email) || !kit::json::is_valid_utf8(name)) {
    v.add("invalid_value", "Arguments must be valid UTF-8", "email/name");
  }
  if (!v.ok()) {
    for (const auto& d : v.details()) {
      std::fprintf(stderr, "create-admin: %s: %s\n", d.field.c_str(), d.message.c_str());
    }
    sodium_memzero(password->data(), password->size());
    return kExitUsage;
  }
  request.email = std::move(*checked_email);
  request.name = std::move(*checked_name);
  request.password = std::move(*password);

  boost::asio::io_context ctx;
  auto done = boost::asio::co_spawn(ctx, run_create_admin(*settings, std::move(request)),
                                    boost::asio::use_future);
  ctx.run();
  try {
    const services::AdminResult result = done.get();
    kit::log::info("cli", result.created ? "admin_created" : "admin_promoted",
                   {{"user_id", result.user.id}});
    std::printf("%s admin %s (%s)\n", result.created ? "created" : "promoted",
                result.user.email.c_str(), result.user.id.c_str());
  } catch (const kit::errors::AppError& e) {
    std::fprintf(stderr, "create-admin: %s\n", std::string(e.message()).c_str());
    return kExitFailure;
  } catch (const std::exception& e) {
    kit::log::error("cli", "create_admin_failed", {{"message", e.what()}});
    std::fprintf(stderr, "create-admin: %s\n", e.what());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace user_service::cli
