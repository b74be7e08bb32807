// The JSON error envelope and the typed application errors (docs/http-api.md "Errors").
#include "kit/errors/envelope.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "kit/errors/app_error.hpp"
#include "kit/json/writer.hpp"

namespace {

using namespace kit::errors;
using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(Envelope, NotFoundWithoutDetailsExactBytes) {
  EXPECT_EQ(render_envelope("NOT_FOUND", "User with identifier 'x' not found", {}, "req-1"),
            R"({"error":"NOT_FOUND","message":"User with identifier 'x' not found",)"
            R"("request_id":"req-1"})");
}

TEST(Envelope, DetailsInOrderAndFieldOmittedWhenEmpty) {
  const std::vector<Detail> details{
      {"too_short", "Password must be at least 8 characters", "password"},
      {"invalid_value", "Something is off", ""},
  };
  EXPECT_EQ(render_envelope("VALIDATION_ERROR", "Request validation failed", details, "abc"),
            R"({"error":"VALIDATION_ERROR","message":"Request validation failed",)"
            R"("details":[{"code":"too_short","message":"Password must be at least 8 characters",)"
            R"("field":"password"},{"code":"invalid_value","message":"Something is off"}],)"
            R"("request_id":"abc"})");
}

TEST(Envelope, NotFoundWithDetailsExactBytes) {
  EXPECT_EQ(render_envelope("NOT_FOUND", "Not found", {{"missing", "No such thing", "id"}}, "r"),
            R"({"error":"NOT_FOUND","message":"Not found","details":[{"code":"missing",)"
            R"("message":"No such thing","field":"id"}],"request_id":"r"})");
}

TEST(Envelope, HostileMessageAndRequestIdAreEscaped) {
  const std::string body = render_envelope(
      "NOT_FOUND", "User with identifier '\"},\"admin\":true,\"x\":\"\n\xFF' not found",
      {{"invalid_value", "bad \"quote\"", "f\"ield"}}, "id\"1");
  EXPECT_EQ(body,
            R"({"error":"NOT_FOUND","message":"User with identifier '\"},\"admin\":true,\"x\":\")"
            "\\n\xEF\xBF\xBD' not found\","
            R"("details":[{"code":"invalid_value","message":"bad \"quote\"","field":"f\"ield"}],)"
            R"("request_id":"id\"1"})");
  EXPECT_TRUE(kit::json::is_valid_utf8(body));
}

TEST(Envelope, EmptyRequestIdStillPresent) {
  EXPECT_EQ(render_envelope("INTERNAL_ERROR", "An unexpected error occurred", {}, ""),
            R"({"error":"INTERNAL_ERROR","message":"An unexpected error occurred",)"
            R"("request_id":""})");
}

// --- AppError subtypes --------------------------------------------------------------------------

void expect_error(const AppError& e, unsigned status, std::string_view code,
                  const Headers& headers = {}) {
  EXPECT_EQ(e.status(), status) << code;
  EXPECT_EQ(e.code(), code);
  EXPECT_EQ(e.headers(), headers) << code;
  EXPECT_FALSE(e.message().empty()) << code;
  EXPECT_EQ(e.message(), std::string_view(e.what()));
}

TEST(AppErrors, StatusCodeAndHeadersOfEverySubtype) {
  expect_error(BadRequest("Malformed JSON"), 400, "BAD_REQUEST");
  expect_error(Unauthorized(), 401, "UNAUTHORIZED", {{"WWW-Authenticate", "Bearer"}});
  expect_error(Unauthorized("Invalid token", true), 401, "UNAUTHORIZED",
               {{"WWW-Authenticate", R"(Bearer error="invalid_token")"}});
  expect_error(Unauthorized("Not authenticated", false), 401, "UNAUTHORIZED",
               {{"WWW-Authenticate", "Bearer"}});
  expect_error(InvalidCredentials(), 401, "INVALID_CREDENTIALS", {{"WWW-Authenticate", "Bearer"}});
  expect_error(Forbidden(), 403, "FORBIDDEN");
  expect_error(NotFound(), 404, "NOT_FOUND");
  expect_error(MethodNotAllowed("GET, HEAD, POST"), 405, "METHOD_NOT_ALLOWED",
               {{"Allow", "GET, HEAD, POST"}});
  expect_error(Conflict("Email already registered"), 409, "CONFLICT");
  expect_error(PayloadTooLarge(), 413, "PAYLOAD_TOO_LARGE");
  expect_error(UnsupportedMediaType("Use application/json"), 415, "UNSUPPORTED_MEDIA_TYPE");
  expect_error(ValidationError({{"missing", "Field required", "email"}}), 422, "VALIDATION_ERROR");
  expect_error(RateLimited(std::chrono::seconds{17}), 429, "RATE_LIMITED", {{"Retry-After", "17"}});
  expect_error(HeadersTooLarge(), 431, "HEADERS_TOO_LARGE");
  expect_error(ServiceUnavailable(), 503, "SERVICE_UNAVAILABLE", {{"Retry-After", "1"}});
  expect_error(ServiceUnavailable("Database unavailable", std::chrono::seconds{5}), 503,
               "SERVICE_UNAVAILABLE", {{"Retry-After", "5"}});
}

TEST(AppErrors, MessagesAndDetailsAreKept) {
  const NotFound nf("User with identifier 'x' not found");
  EXPECT_EQ(nf.message(), "User with identifier 'x' not found");
  const ValidationError v(
      {{"too_short", "Too short", "password"}, {"missing", "Required", "email"}});
  ASSERT_EQ(v.details().size(), 2u);
  EXPECT_EQ(v.details()[0].code, "too_short");
  EXPECT_EQ(v.details()[1].field, "email");
  EXPECT_EQ(v.message(), "Request validation failed");
  EXPECT_TRUE(NotFound().details().empty());
}

TEST(AppErrors, CaughtAsAppErrorKeepsHeaders) {
  try {
    throw RateLimited(std::chrono::seconds{3});
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 429u);
    ASSERT_EQ(e.headers().size(), 1u);
    EXPECT_EQ(e.headers()[0].first, "Retry-After");
    EXPECT_EQ(e.headers()[0].second, "3");
  }
}

// Found by tests/fault/hostile_input.py: GET /api/v1/users/%00x answered
// "User with identifier '" — the message was read back through what(), a C string.
TEST(AppErrors, MessageKeepsAnEmbeddedNul) {
  const std::string id("a\0b", 3);
  const NotFound e("User with identifier '" + id + "' not found");
  EXPECT_EQ(e.message(), "User with identifier '" + id + "' not found");
  EXPECT_EQ(render_envelope(e.code(), e.message(), e.details(), "r"),
            R"({"error":"NOT_FOUND","message":"User with identifier 'a\u0000b' not found",)"
            R"("request_id":"r"})");
}

TEST(AppErrors, WithHeaderAppends) {
  AppError e(418, "TEAPOT", "short and stout");
  e.with_header("X-A", "1").with_header("X-B", "2");
  EXPECT_EQ(e.headers(), (Headers{{"X-A", "1"}, {"X-B", "2"}}));
}

}  // namespace
