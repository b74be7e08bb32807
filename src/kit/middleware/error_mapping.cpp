#include "kit/middleware/error_mapping.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "kit/db/errors.hpp"
#include "kit/http/error_response.hpp"

namespace kit::middleware {
namespace {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

}  // namespace

// The exception's type is tested with dynamic_cast, in the order the catch clauses had: a
// rethrow to match it by type cost a full stack unwind per error response.
std::optional<http::Response> ErrorMapping::on_error(http::Request& req, http::RequestContext& ctx,
                                                     std::exception* error) {
  if (const auto* e = dynamic_cast<const kit::db::UnavailableError*>(error)) {
    ctx.log("http").warning("request_failed", {{"error", e->code()},
                                               {"exception", "kit::db::UnavailableError"},
                                               {"reason", e->internal_reason()}});
    return http::error_response(*e, ctx.request_id, req.version());
  }
  if (const auto* e = dynamic_cast<const kit::errors::AppError*>(error)) {
    if (e->status() >= 500) {
      ctx.log("http").warning("request_failed", {{"error", e->code()}, {"message", e->message()}});
    }
    return http::error_response(*e, ctx.request_id, req.version());
  }
  if (error != nullptr) {
    ctx.log("http").error("unhandled_exception", {{"exception", demangle(typeid(*error).name())},
                                                  {"message", error->what()}});
  } else {
    ctx.log("http").error("unhandled_exception",
                          {{"exception", "unknown"}, {"message", "non-standard exception"}});
  }
  return http::internal_error_response(ctx.request_id, req.version());
}

}  // namespace kit::middleware
