// Fuzzes the whole request path of the real service: the input is the byte stream of one client
// connection (any number of pipelined requests), sent over loopback TCP to an in-process App
// built by the application factory on a SQLite :memory: database. So the bytes go through the
// server's Beast parser with its header/body limits, 100-continue, keep-alive and pipelining,
// the full middleware chain (request id, trace context, client IP with a trusted proxy, access
// log, security headers, CORS, error mapping, rate limiting), the router's typed parameters,
// the users/auth/health handlers with their body readers and schemas, JWT checks, the services
// and the SQLite repository — nothing is reimplemented here.
//
// To reach past authentication, "@TOKEN@" in the input becomes a valid bearer token of a real
// user and "@UID@" that user's id (re-created whenever the input deleted or changed it).
//
// Properties: every reply is a well-formed status line first, and no request gets a 5xx
// (docs/http-api.md "Untrusted input": hostile input gets the right 4xx, never a 500; nothing here
// is unavailable).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "fuzz_check.hpp"
#include "kit/config/source.hpp"
#include "kit/log/log.hpp"
#include "service/app.hpp"
#include "service/settings.hpp"
#include "support/loopback.hpp"

namespace {

constexpr std::string_view kTokenMark = "@TOKEN@";
constexpr std::string_view kUserIdMark = "@UID@";

struct Service {
  std::uint16_t port = 0;
  std::unique_ptr<user_service::App> app;
  std::string token;    // bearer token of `user_id`
  std::string user_id;  // the current fuzz user
  unsigned users_made = 0;
};

std::map<std::string, std::string> environment(std::uint16_t port) {
  return {
      {"HOST", "127.0.0.1"},
      {"PORT", std::to_string(port)},
      {"WORKERS", "1"},
      {"DATABASE_URL", "sqlite://:memory:"},
      {"JWT_SECRET", "fuzzing-secret-0123456789abcdefghijklmnop"},
      {"PASSWORD_HASH_MEMORY_KIB", "8"},  // the floor: hashing is not what is fuzzed here
      {"PASSWORD_HASH_ITERATIONS", "1"},
      // High enough never to refuse the fuzzer, while the limiter code still runs.
      {"RATE_LIMIT_PER_MINUTE", "1000000"},
      {"LOGIN_RATE_LIMIT_PER_MINUTE", "1000000"},
      {"CORS_ALLOW_ORIGINS", "https://app.example.com"},
      {"CORS_ALLOW_CREDENTIALS", "true"},
      {"TRUSTED_PROXIES", "127.0.0.0/8"},  // so X-Forwarded-For parsing is fuzzed too
      {"MAX_BODY_BYTES", "4096"},          // 413 within reach of small inputs
      {"SHUTDOWN_GRACE_SECONDS", "1"},
      {"LOG_LEVEL", "error"},  // request lines would flood the fuzzer's output
  };
}

std::string request(std::string_view method, std::string_view target, std::string_view headers,
                    std::string_view body) {
  std::string r(method);
  r.append(" ").append(target).append(" HTTP/1.1\r\nHost: fuzz\r\n").append(headers);
  r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  return r.append(body);
}

// The value of the JSON string member `name` in a flat object we produced ("" when absent).
std::string json_string(std::string_view json, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":\"";
  const auto start = json.find(key);
  if (start == std::string_view::npos) return {};
  const auto from = start + key.size();
  return std::string(json.substr(from, json.find('"', from) - from));
}

// Starts the App on a free port; retries when another process took the port meanwhile.
Service* start_service() {
  kit::log::init({.level = kit::log::Level::error, .async = false});
  auto* service = new Service();  // lives until the process exits, like a server's App
  for (int attempt = 0; attempt < 20; ++attempt) {
    service->port = fuzz::free_port();
    service->app = std::make_unique<user_service::App>(
        user_service::load_settings(kit::config::Source::from(environment(service->port))));
    auto failed = std::make_shared<std::atomic<bool>>(false);
    std::thread([app = service->app.get(), failed] {
      try {
        app->serve();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz: the service did not start: %s\n", e.what());
      }
      failed->store(true);  // serve() only returns after a failure or a signal
    }).detach();
    const std::string live = request("GET", "/health/live", "", "");
    for (int wait = 0; wait < 3000 && !failed->load(); ++wait) {
      const auto reply = fuzz::exchange(service->port, live);
      if (reply && fuzz::first_status(*reply) == 200) return service;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FUZZ_CHECK(failed->load());  // neither up nor failed within 30 s
    service->app.reset();        // its thread no longer touches it once `failed` is set
  }
  FUZZ_CHECK(!"the service did not start on any of 20 ports");
  return nullptr;
}

Service& service() {
  static Service* instance = start_service();
  return *instance;
}

// Makes sure the token and user id are valid: the previous input may have deleted the user or
// changed its email or password.
void ensure_user(Service& s) {
  if (!s.token.empty()) {
    const auto me = fuzz::exchange(
        s.port,
        request("GET", "/api/v1/users/me", "Authorization: Bearer " + s.token + "\r\n", ""));
    if (me && fuzz::first_status(*me) == 200) return;
  }
  const std::string email = "fuzz" + std::to_string(++s.users_made) + "@example.com";
  const std::string password = "correct horse battery";
  const auto created = fuzz::exchange(
      s.port,
      request("POST", "/api/v1/users/", "Content-Type: application/json\r\n",
              R"({"email":")" + email + R"(","name":"Fuzz","password":")" + password + "\"}"));
  FUZZ_CHECK(created && fuzz::first_status(*created) == 201);
  s.user_id = json_string(fuzz::first_body(*created), "id");
  const auto token = fuzz::exchange(
      s.port,
      request("POST", "/api/v1/auth/token", "Content-Type: application/x-www-form-urlencoded\r\n",
              "grant_type=password&username=" + email + "&password=correct+horse+battery"));
  FUZZ_CHECK(token && fuzz::first_status(*token) == 200);
  s.token = json_string(fuzz::first_body(*token), "access_token");
  FUZZ_CHECK(!s.user_id.empty() && !s.token.empty());
}

std::string substitute(std::string bytes, std::string_view mark, const std::string& value) {
  for (auto at = bytes.find(mark); at != std::string::npos; at = bytes.find(mark, at)) {
    bytes.replace(at, mark.size(), value);
    at += value.size();
  }
  return bytes;
}

// Every response starts with a status line; none may be a 5xx. Bodies are JSON (control
// characters escaped), so "\r\nHTTP/1.1 " can only begin a status line.
void check_reply(std::string_view reply) {
  if (reply.empty()) return;  // e.g. an incomplete request: the server just closes
  FUZZ_CHECK(reply.starts_with("HTTP/1.1 ") || reply.starts_with("HTTP/1.0 "));
  for (std::size_t at = 0; at != std::string_view::npos; at = reply.find("\r\nHTTP/1.", at + 1)) {
    const std::string_view line = reply.substr(at == 0 ? 0 : at + 2, 12);
    if (line.size() == 12 && line[9] == '5') {
      std::fprintf(stderr, "fuzz: server error: %.*s\n", static_cast<int>(line.size()),
                   line.data());
      FUZZ_CHECK(!"a request got a 5xx");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  service();  // start-up (migrations, listening) is not part of any run
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Service& s = service();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.find(kTokenMark) != std::string::npos || bytes.find(kUserIdMark) != std::string::npos) {
    ensure_user(s);
    bytes = substitute(substitute(std::move(bytes), kTokenMark, s.token), kUserIdMark, s.user_id);
  }
  const auto reply = fuzz::exchange(s.port, bytes);
  if (!reply) std::fprintf(stderr, "fuzz: connect failed: %s\n", std::strerror(errno));
  FUZZ_CHECK(reply.has_value());  // the server must keep accepting connections
  check_reply(*reply);
  return 0;
}
