#pragma once
// The one place where any exception becomes the JSON error envelope (docs/http-api.md "Errors").
// Typed application errors keep their status, code, details and headers; anything else is
// logged as `unhandled_exception` with its type and message and answered with a 500 whose body
// says only "An unexpected error occurred".
#include "kit/errors/app_error.hpp"
#include "kit/http/pipeline.hpp"

namespace kit::middleware {

class ErrorMapping final : public http::HookMiddleware {
 public:
  std::optional<http::Response> on_error(http::Request& req, http::RequestContext& ctx,
                                         std::exception* error) override;
};

}  // namespace kit::middleware
