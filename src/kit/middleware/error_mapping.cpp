#include "kit/middleware/error_mapping.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "kit/db/errors.hpp"
#include "kit/errors/envelope.hpp"
#include "kit/http/response.hpp"

namespace kit::middleware {
namespace {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

}  // namespace

http::Response error_response(const kit::errors::AppError& error, const http::RequestContext& ctx,
                              unsigned version) {
  http::Response res = http::json_response(
      static_cast<http::Status>(error.status()),
      kit::errors::render_envelope(error.code(), error.message(), error.details(), ctx.request_id),
      version);
  // Appended, not replaced: a field may repeat (one RateLimit entry per policy that applied).
  for (const auto& [name, value] : error.headers()) res.insert(name, value);
  return res;
}

http::Response internal_error_response(const http::RequestContext& ctx, unsigned version) {
  return http::json_response(
      http::Status::internal_server_error,
      kit::errors::render_envelope("INTERNAL_ERROR", "An unexpected error occurred", {},
                                   ctx.request_id),
      version);
}

boost::asio::awaitable<http::Response> ErrorMapping::handle(http::Request& req,
                                                            http::RequestContext& ctx,
                                                            http::Next next) {
  // co_await is not allowed inside a handler block, so the outcome is captured here.
  try {
    co_return co_await next(req, ctx);
  } catch (const kit::db::UnavailableError& e) {
    ctx.log("http").warning("request_failed", {{"error", e.code()},
                                               {"exception", "kit::db::UnavailableError"},
                                               {"reason", e.internal_reason()}});
    co_return error_response(e, ctx, req.version());
  } catch (const kit::errors::AppError& e) {
    if (e.status() >= 500) {
      ctx.log("http").warning("request_failed", {{"error", e.code()}, {"message", e.message()}});
    }
    co_return error_response(e, ctx, req.version());
  } catch (const std::exception& e) {
    ctx.log("http").error("unhandled_exception",
                          {{"exception", demangle(typeid(e).name())}, {"message", e.what()}});
  } catch (...) {
    ctx.log("http").error("unhandled_exception",
                          {{"exception", "unknown"}, {"message", "non-standard exception"}});
  }
  co_return internal_error_response(ctx, req.version());
}

}  // namespace kit::middleware
