// The kit middleware driven through a real kit::http::Pipeline with a terminal handler:
// RequestId (X-Request-ID + traceparent), SecurityHeaders (docs/http-api.md "Headers on every
// response"), ErrorMapping (docs/http-api.md "Errors") and AccessLog (docs/operations.md "Logs").
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>

#include "kit/db/errors.hpp"
#include "kit/errors/app_error.hpp"
#include "kit/http/pipeline.hpp"
#include "kit/http/response.hpp"
#include "kit/log/log.hpp"
#include "kit/middleware/access_log.hpp"
#include "kit/middleware/error_mapping.hpp"
#include "kit/middleware/request_id.hpp"
#include "kit/middleware/security_headers.hpp"
#include "kit/util/uuid.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
namespace mw = kit::middleware;
using namespace kit::http;  // the types under test

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
constexpr std::string_view kCsp = "default-src 'none'; frame-ancestors 'none'";
constexpr std::string_view kHsts = "max-age=63072000; includeSubDomains";

// The response object as the chain returns it.
Response run_chain(const Pipeline& pipeline, Request& req, RequestContext& ctx,
                   const Handler& terminal) {
  return test_support::run_coroutine(pipeline.handle(req, ctx, terminal));
}

// The response as the client sees it: with the fields the server writes from the context.
Response run(const Pipeline& pipeline, Request& req, RequestContext& ctx, const Handler& terminal) {
  Response res = run_chain(pipeline, req, ctx, terminal);
  kit::http::add_fixed_headers(res, ctx.fixed_headers);
  return res;
}

Response run(const Pipeline& pipeline, Request req, const Handler& terminal) {
  RequestContext ctx;
  return run(pipeline, req, ctx, terminal);
}

Request get(std::string target = "/x") {
  return Request{Verb::get, target, 11};
}

Handler ok_handler(std::string body = R"({"ok":true})") {
  return [body](Request&, RequestContext&) -> asio::awaitable<Response> {
    co_return kit::http::json_response(Status::ok, body);
  };
}

// Throws `make()` after one real suspension, as a handler waiting on a database would.
template <class Make>
Handler throwing_handler(Make make) {
  return [make](Request&, RequestContext&) -> asio::awaitable<Response> {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    make();
    co_return kit::http::empty_response(Status::no_content);
  };
}

std::string header(const Response& res, std::string_view name) {
  const auto it = res.find(name);
  return it == res.end() ? std::string("<absent>") : std::string(it->value());
}

void expect_security_headers(const Response& res, bool hsts) {
  EXPECT_EQ(header(res, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(res, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header(res, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(res, "Content-Security-Policy"), kCsp);
  EXPECT_EQ(header(res, "Cache-Control"), "no-store");
  EXPECT_EQ(header(res, "Strict-Transport-Security"), hsts ? std::string(kHsts) : "<absent>");
  EXPECT_EQ(res.find(Field::server), res.end());
}

// Keeps log output of the error paths out of the test report, and restores the level.
class MiddlewareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kit::log::shutdown();  // synchronous writes, so captured stdout sees every line
    kit::log::init(
        {.level = kit::log::Level::info, .format = kit::log::Format::json, .async = false});
  }
  void TearDown() override {
    kit::log::init(
        {.level = kit::log::Level::info, .format = kit::log::Format::json, .async = false});
  }
};

// --- RequestId ----------------------------------------------------------------------------------

TEST_F(MiddlewareTest, RequestIdEchoesAValidClientId) {
  Pipeline p;
  p.use(std::make_shared<mw::RequestId>());
  std::string seen_by_handler;
  const Handler terminal = [&](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
    seen_by_handler = ctx.request_id;
    co_return kit::http::json_response(Status::ok, "{}");
  };
  Request req = get();
  req.set("X-Request-ID", "client-id_1.2:3");
  RequestContext ctx;
  const Response res = run(p, req, ctx, terminal);
  EXPECT_EQ(header(res, "X-Request-ID"), "client-id_1.2:3");
  EXPECT_EQ(ctx.request_id, "client-id_1.2:3");
  EXPECT_EQ(seen_by_handler, "client-id_1.2:3");
}

TEST_F(MiddlewareTest, RequestIdReplacesAnInvalidOrMissingIdWithAUuid) {
  Pipeline p;
  p.use(std::make_shared<mw::RequestId>());
  const std::string invalid[] = {"",    "has space",   std::string(129, 'a'),
                                 "a/b", "caf\xC3\xA9", "x\"y"};
  for (const std::string& bad : invalid) {
    Request req = get();
    req.set("X-Request-ID", bad);
    RequestContext ctx;
    const Response res = run(p, req, ctx, ok_handler());
    const std::string id = header(res, "X-Request-ID");
    EXPECT_TRUE(std::regex_match(id, kUuidV4)) << "for '" << bad << "' got " << id;
    EXPECT_EQ(id, ctx.request_id);
  }
  RequestContext a, b;
  Request none = get();
  const std::string id_a = header(run(p, none, a, ok_handler()), "X-Request-ID");
  const std::string id_b = header(run(p, none, b, ok_handler()), "X-Request-ID");
  EXPECT_TRUE(std::regex_match(id_a, kUuidV4)) << id_a;
  EXPECT_NE(id_a, id_b);
}

TEST_F(MiddlewareTest, RequestIdSetsTraceContext) {
  Pipeline p;
  p.use(std::make_shared<mw::RequestId>());
  Request req = get();
  req.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  RequestContext ctx;
  run(p, req, ctx, ok_handler());
  EXPECT_EQ(ctx.trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ctx.trace.span_id.size(), 16u);

  RequestContext fresh;
  Request plain = get();
  run(p, plain, fresh, ok_handler());
  EXPECT_EQ(fresh.trace.trace_id.size(), 32u);
  EXPECT_NE(fresh.trace.trace_id, std::string(32, '0'));
}

TEST_F(MiddlewareTest, RequestIdIsOnErrorResponsesAndMatchesTheEnvelope) {
  Pipeline p;
  p.use(std::make_shared<mw::RequestId>());
  p.use(std::make_shared<mw::ErrorMapping>());
  Request req = get();
  req.set("X-Request-ID", "abc-123");
  const Response res =
      run(p, req, throwing_handler([] { throw kit::errors::NotFound("User not found"); }));
  EXPECT_EQ(res.result(), Status::not_found);
  EXPECT_EQ(header(res, "X-Request-ID"), "abc-123");
  EXPECT_EQ(res.body(),
            R"({"error":"NOT_FOUND","message":"User not found","request_id":"abc-123"})");
}

// --- SecurityHeaders ----------------------------------------------------------------------------

TEST_F(MiddlewareTest, SecurityHeadersOnSuccess) {
  Pipeline p;
  p.use(std::make_shared<mw::SecurityHeaders>(false));
  expect_security_headers(run(p, get(), ok_handler()), false);
}

TEST_F(MiddlewareTest, SecurityHeadersWithHsts) {
  Pipeline p;
  p.use(std::make_shared<mw::SecurityHeaders>(true));
  expect_security_headers(run(p, get(), ok_handler()), true);
}

TEST_F(MiddlewareTest, SecurityHeadersOnErrorResponses) {
  Pipeline p;
  p.use(std::make_shared<mw::SecurityHeaders>(true));
  p.use(std::make_shared<mw::ErrorMapping>());
  testing::internal::CaptureStdout();
  const Response not_found = run(p, get(), throwing_handler([] { throw kit::errors::NotFound(); }));
  const Response crash =
      run(p, get(), throwing_handler([] { throw std::runtime_error("secret internal detail"); }));
  testing::internal::GetCapturedStdout();
  EXPECT_EQ(not_found.result(), Status::not_found);
  expect_security_headers(not_found, true);
  EXPECT_EQ(crash.result(), Status::internal_server_error);
  expect_security_headers(crash, true);
}

TEST_F(MiddlewareTest, SecurityHeadersKeepHandlerSetCspAndCacheControl) {
  Pipeline p;
  p.use(std::make_shared<mw::SecurityHeaders>(false));
  const Handler docs = [](Request&, RequestContext&) -> asio::awaitable<Response> {
    Response res{Status::ok, 11};
    res.set(Field::content_type, "text/html; charset=utf-8");
    res.set("Content-Security-Policy", "default-src 'self'; script-src https://cdn.example");
    res.set(Field::cache_control, "public, max-age=3600");
    res.body() = "<html></html>";
    res.prepare_payload();
    co_return res;
  };
  const Response res = run(p, get("/docs"), docs);
  EXPECT_EQ(header(res, "Content-Security-Policy"),
            "default-src 'self'; script-src https://cdn.example");
  EXPECT_EQ(header(res, "Cache-Control"), "public, max-age=3600");
  EXPECT_EQ(header(res, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(res, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header(res, "Referrer-Policy"), "no-referrer");
  // Only one CSP: the handler's, not both.
  EXPECT_EQ(std::distance(res.equal_range("Content-Security-Policy").first,
                          res.equal_range("Content-Security-Policy").second),
            1);
}

// The fields go to the server as wire lines (RequestContext::fixed_headers), so a value a
// handler set must leave the response object, or the client would get the field twice.
TEST_F(MiddlewareTest, SecurityHeadersReplaceFieldsAHandlerSet) {
  Pipeline p;
  p.use(std::make_shared<mw::SecurityHeaders>(true));
  const Handler framed = [](Request&, RequestContext&) -> asio::awaitable<Response> {
    Response res = kit::http::json_response(Status::ok, "{}");
    res.set(Field::x_frame_options, "SAMEORIGIN");
    res.set("Strict-Transport-Security", "max-age=1");
    co_return res;
  };
  Request req = get();
  RequestContext ctx;
  const Response res = run_chain(p, req, ctx, framed);
  EXPECT_EQ(res.count(Field::x_frame_options), 0u);
  EXPECT_EQ(res.count(Field::strict_transport_security), 0u);
  const std::string lines(ctx.fixed_headers);
  EXPECT_EQ(lines,
            "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
            "Referrer-Policy: no-referrer\r\nContent-Security-Policy: " +
                std::string(kCsp) + "\r\nCache-Control: no-store\r\nStrict-Transport-Security: " +
                std::string(kHsts) + "\r\n");
}

// --- ErrorMapping -------------------------------------------------------------------------------

class ErrorMappingTest : public MiddlewareTest {
 protected:
  ErrorMappingTest() { pipeline.use(std::make_shared<mw::ErrorMapping>()); }

  Response call(const Handler& terminal, unsigned version = 11) {
    Request req{Verb::get, "/x", version};
    RequestContext ctx;
    ctx.request_id = "rid-1";
    return run(pipeline, req, ctx, terminal);
  }

  Pipeline pipeline;
};

void expect_json(const Response& res) {
  EXPECT_EQ(header(res, "Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(header(res, "Content-Length"), std::to_string(res.body().size()));
}

TEST_F(ErrorMappingTest, SuccessPassesThroughUnchanged) {
  const Response res = call(ok_handler(R"({"a":1})"));
  EXPECT_EQ(res.result(), Status::ok);
  EXPECT_EQ(res.body(), R"({"a":1})");
}

TEST_F(ErrorMappingTest, AppErrorsBecomeEnvelopesWithTheirHeaders) {
  {
    const Response res = call(throwing_handler(
        [] { throw kit::errors::NotFound("User with identifier 'x\"' not found"); }));
    EXPECT_EQ(res.result(), Status::not_found);
    EXPECT_EQ(res.body(),
              R"({"error":"NOT_FOUND","message":"User with identifier 'x\"' not found",)"
              R"("request_id":"rid-1"})");
    expect_json(res);
  }
  {
    const Response res =
        call(throwing_handler([] { throw kit::errors::MethodNotAllowed("GET, HEAD"); }));
    EXPECT_EQ(res.result(), Status::method_not_allowed);
    EXPECT_EQ(header(res, "Allow"), "GET, HEAD");
    EXPECT_EQ(
        res.body(),
        R"({"error":"METHOD_NOT_ALLOWED","message":"Method not allowed","request_id":"rid-1"})");
  }
  {
    const Response res =
        call(throwing_handler([] { throw kit::errors::RateLimited(std::chrono::seconds{42}); }));
    EXPECT_EQ(res.result(), Status::too_many_requests);
    EXPECT_EQ(header(res, "Retry-After"), "42");
    EXPECT_NE(res.body().find(R"("error":"RATE_LIMITED")"), std::string::npos);
  }
  {
    const Response res = call(throwing_handler([] { throw kit::errors::Unauthorized(); }));
    EXPECT_EQ(res.result(), Status::unauthorized);
    EXPECT_EQ(header(res, "WWW-Authenticate"), "Bearer");
  }
  {
    const Response res =
        call(throwing_handler([] { throw kit::errors::Unauthorized("Invalid token", true); }));
    EXPECT_EQ(res.result(), Status::unauthorized);
    EXPECT_EQ(header(res, "WWW-Authenticate"), R"(Bearer error="invalid_token")");
    EXPECT_EQ(res.body(),
              R"({"error":"UNAUTHORIZED","message":"Invalid token","request_id":"rid-1"})");
  }
  {
    const Response res = call(throwing_handler([] {
      throw kit::errors::ValidationError(
          {{"too_short", "Too short", "password"}, {"missing", "Field required", "email"}});
    }));
    EXPECT_EQ(res.result(), Status::unprocessable_entity);
    EXPECT_EQ(res.body(),
              R"({"error":"VALIDATION_ERROR","message":"Request validation failed","details":[)"
              R"({"code":"too_short","message":"Too short","field":"password"},)"
              R"({"code":"missing","message":"Field required","field":"email"}],)"
              R"("request_id":"rid-1"})");
  }
  {
    testing::internal::CaptureStdout();
    const Response res = call(throwing_handler([] { throw kit::errors::ServiceUnavailable(); }));
    testing::internal::GetCapturedStdout();
    EXPECT_EQ(res.result(), Status::service_unavailable);
    EXPECT_EQ(header(res, "Retry-After"), "1");
    EXPECT_NE(res.body().find(R"("error":"SERVICE_UNAVAILABLE")"), std::string::npos);
  }
}

TEST_F(ErrorMappingTest, DatabaseUnavailableHidesItsInternalReason) {
  testing::internal::CaptureStdout();
  const Response res = call(
      throwing_handler([] { throw kit::db::UnavailableError("connection refused by db:5432"); }));
  const std::string logged = testing::internal::GetCapturedStdout();
  EXPECT_EQ(res.result(), Status::service_unavailable);
  EXPECT_EQ(header(res, "Retry-After"), "1");
  EXPECT_EQ(
      res.body(),
      R"({"error":"SERVICE_UNAVAILABLE","message":"Database unavailable","request_id":"rid-1"})");
  EXPECT_EQ(res.body().find("refused"), std::string::npos);
  // The reason is for operators: it is logged, never rendered.
  EXPECT_NE(logged.find("request_failed"), std::string::npos) << logged;
  EXPECT_NE(logged.find("connection refused by db:5432"), std::string::npos) << logged;
}

TEST_F(ErrorMappingTest, UnexpectedExceptionBecomesAnOpaque500) {
  testing::internal::CaptureStdout();
  const Response res =
      call(throwing_handler([] { throw std::runtime_error("secret internal detail"); }));
  const std::string logged = testing::internal::GetCapturedStdout();
  EXPECT_EQ(res.result(), Status::internal_server_error);
  EXPECT_EQ(res.body(), R"({"error":"INTERNAL_ERROR","message":"An unexpected error occurred",)"
                        R"("request_id":"rid-1"})");
  EXPECT_EQ(res.body().find("secret"), std::string::npos);
  expect_json(res);
  // The detail goes to the log, with the exception type, as unhandled_exception (see
  // docs/operations.md "Logs").
  EXPECT_NE(logged.find(R"("event":"unhandled_exception")"), std::string::npos) << logged;
  EXPECT_NE(logged.find(R"("exception":"std::runtime_error")"), std::string::npos) << logged;
  EXPECT_NE(logged.find("secret internal detail"), std::string::npos) << logged;
}

TEST_F(ErrorMappingTest, ThrownNonExceptionBecomesA500) {
  testing::internal::CaptureStdout();
  const Response res = call(throwing_handler([] { throw 42; }));
  const std::string logged = testing::internal::GetCapturedStdout();
  EXPECT_EQ(res.result(), Status::internal_server_error);
  EXPECT_EQ(res.body(), R"({"error":"INTERNAL_ERROR","message":"An unexpected error occurred",)"
                        R"("request_id":"rid-1"})");
  EXPECT_NE(logged.find("unhandled_exception"), std::string::npos) << logged;
}

TEST_F(ErrorMappingTest, SynchronousThrowFromANonCoroutineHandler) {
  // A terminal that throws before it even returns an awaitable.
  const Handler sync_throw = [](Request&, RequestContext&) -> asio::awaitable<Response> {
    throw kit::errors::Conflict("Email already registered");
  };
  const Response res = call(sync_throw);
  EXPECT_EQ(res.result(), Status::conflict);
  EXPECT_EQ(res.body(),
            R"({"error":"CONFLICT","message":"Email already registered","request_id":"rid-1"})");
}

TEST_F(ErrorMappingTest, KeepsTheRequestHttpVersion) {
  testing::internal::CaptureStdout();
  const Response res = call(throwing_handler([] { throw std::logic_error("x"); }), 10);
  testing::internal::GetCapturedStdout();
  EXPECT_EQ(res.version(), 10u);
  EXPECT_EQ(call(throwing_handler([] { throw kit::errors::NotFound(); }), 10).version(), 10u);
}

// --- The full chain and the access log ----------------------------------------------------------

TEST_F(MiddlewareTest, FullChainErrorHasIdHeadersAndAccessLogLine) {
  Pipeline p;
  p.use(std::make_shared<mw::RequestId>());
  p.use(std::make_shared<mw::AccessLog>());
  p.use(std::make_shared<mw::SecurityHeaders>(false));
  p.use(std::make_shared<mw::ErrorMapping>());
  Request req{Verb::post, "/api/v1/things?secret=no", 11};
  req.set("X-Request-ID", "chain-1");
  req.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  req.set(Field::user_agent, "unit-test/1.0");
  RequestContext ctx;
  ctx.client_ip = "192.0.2.7";
  testing::internal::CaptureStdout();
  const Response res =
      run(p, req, ctx,
          throwing_handler([] { throw kit::errors::Conflict("Email already registered"); }));
  const std::string logged = testing::internal::GetCapturedStdout();
  EXPECT_EQ(res.result(), Status::conflict);
  EXPECT_EQ(header(res, "X-Request-ID"), "chain-1");
  expect_security_headers(res, false);
  EXPECT_NE(res.body().find(R"("request_id":"chain-1")"), std::string::npos);

  EXPECT_NE(logged.find(R"("event":"request_completed","request_id":"chain-1",)"
                        R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":")" +
                        ctx.trace.span_id +
                        R"(","method":"POST","path":"/api/v1/things","route":"",)"
                        R"("status_code":409,"duration_ms":)"),
            std::string::npos)
      << logged;
  EXPECT_EQ(ctx.trace.span_id.size(), 16U);
  EXPECT_EQ(ctx.trace.parent_id, "00f067aa0ba902b7");  // the traceparent's parent-id
  EXPECT_NE(logged.find(R"("client_ip":"192.0.2.7","user_agent":"unit-test/1.0"})"),
            std::string::npos)
      << logged;
  EXPECT_EQ(logged.find("secret=no"), std::string::npos) << logged;
}

}  // namespace
