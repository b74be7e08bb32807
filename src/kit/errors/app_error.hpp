#pragma once
// Typed application errors. Handlers, services and drivers throw these; exactly one place
// (kit/middleware/error_mapping) turns any exception into the JSON error envelope (docs: README,
// "Errors"), with kit::http::error_response(), which a handler may also return for an error it
// expects.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kit::errors {

// One entry of the envelope's "details" array.
struct Detail {
  std::string
      code;  // missing | invalid_type | invalid_email | too_short | too_long | invalid_value
  std::string message;  // human-readable, safe to show to clients
  std::string field;    // the request field it is about, empty when none
};

class AppError : public std::runtime_error {
 public:
  AppError(unsigned status, std::string code, std::string message, std::vector<Detail> details = {})
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        message_(std::move(message)),
        details_(std::move(details)) {}

  unsigned status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  // The full text, not what(): a C string would end at an embedded NUL (an id echoed from
  // the path, e.g. /api/v1/users/%00x, lost the rest of the message).
  std::string_view message() const noexcept { return message_; }
  const std::vector<Detail>& details() const noexcept { return details_; }
  // Extra response headers the status needs (Allow, Retry-After, WWW-Authenticate).
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
    return headers_;
  }
  // Not inlined: GCC 12 -O2 reports a false -Warray-bounds when the move of a short string
  // temporary is inlined into a constructor such as Unauthorized's (-Werror breaks the build).
  [[gnu::noinline]] AppError& with_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

 private:
  unsigned status_;
  std::string code_;
  std::string message_;
  std::vector<Detail> details_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

struct BadRequest : AppError {
  explicit BadRequest(std::string message) : AppError(400, "BAD_REQUEST", std::move(message)) {}
};

// 401 for a missing or bad bearer token. `token_sent` adds error="invalid_token" (RFC 6750).
// OAuth2's invalid_grant (RFC 6749 §5.2): a refresh token that is unknown, spent, expired or
// revoked. One message for all, so the answer does not tell them apart.
struct InvalidGrant : AppError {
  InvalidGrant()
      : AppError(400, "INVALID_GRANT", "The refresh token is invalid, expired or revoked") {}
};

struct Unauthorized : AppError {
  explicit Unauthorized(std::string message = "Not authenticated", bool token_sent = false)
      : AppError(401, "UNAUTHORIZED", std::move(message)) {
    // Two calls rather than a ?: of literals: GCC 12 -O2 reports a false -Warray-bounds on the
    // latter (which -Werror turns into a build failure wherever Unauthorized is constructed).
    if (token_sent) {
      with_header("WWW-Authenticate", R"(Bearer error="invalid_token")");
    } else {
      with_header("WWW-Authenticate", "Bearer");
    }
  }
};

struct InvalidCredentials : AppError {
  InvalidCredentials() : AppError(401, "INVALID_CREDENTIALS", "Incorrect email or password") {
    with_header("WWW-Authenticate", "Bearer");
  }
};

struct Forbidden : AppError {
  explicit Forbidden(std::string message = "Not allowed")
      : AppError(403, "FORBIDDEN", std::move(message)) {}
};

struct NotFound : AppError {
  explicit NotFound(std::string message = "Not found")
      : AppError(404, "NOT_FOUND", std::move(message)) {}
};

struct MethodNotAllowed : AppError {
  explicit MethodNotAllowed(std::string allow)
      : AppError(405, "METHOD_NOT_ALLOWED", "Method not allowed") {
    with_header("Allow", std::move(allow));
  }
};

struct Conflict : AppError {
  explicit Conflict(std::string message) : AppError(409, "CONFLICT", std::move(message)) {}
};

struct PayloadTooLarge : AppError {
  explicit PayloadTooLarge(std::string message = "Request body too large")
      : AppError(413, "PAYLOAD_TOO_LARGE", std::move(message)) {}
};

struct UnsupportedMediaType : AppError {
  explicit UnsupportedMediaType(std::string message)
      : AppError(415, "UNSUPPORTED_MEDIA_TYPE", std::move(message)) {}
};

struct ValidationError : AppError {
  explicit ValidationError(std::vector<Detail> details)
      : AppError(422, "VALIDATION_ERROR", "Request validation failed", std::move(details)) {}
};

struct RateLimited : AppError {
  explicit RateLimited(std::chrono::seconds retry_after)
      : AppError(429, "RATE_LIMITED", "Too many requests") {
    with_header("Retry-After", std::to_string(retry_after.count()));
  }
};

struct HeadersTooLarge : AppError {
  HeadersTooLarge() : AppError(431, "HEADERS_TOO_LARGE", "Request header fields too large") {}
};

// 503: a dependency is down, a pool is exhausted, or the service is shutting down.
struct ServiceUnavailable : AppError {
  explicit ServiceUnavailable(std::string message = "Service temporarily unavailable",
                              std::chrono::seconds retry_after = std::chrono::seconds{1})
      : AppError(503, "SERVICE_UNAVAILABLE", std::move(message)) {
    with_header("Retry-After", std::to_string(retry_after.count()));
  }
};

}  // namespace kit::errors
