#pragma once
// The OTLP/HTTP trace receiver of the tracing tests (tests/support/otlp_receiver.mjs: every
// export decoded with the official OTLP protobuf definitions shipped by the npm package
// `@opentelemetry/otlp-transformer`; tracing is described in docs/life-of-a-request.md) run as a
// child process: `node otlp_receiver.mjs --port 0 --exit-on-stdin-close`, its port read from the
// first line of its stdout, its state and failure modes reached over its /_control routes with
// the small blocking HTTP client of tests/support/webhook_receiver.hpp. Every wait is bounded.
// The child is stopped by its PID when the object goes; it also exits when this process dies,
// because its stdin (our pipe) then closes. Needs `npm ci` in tests/browser (scripts/test.sh
// runs it) and `node` on PATH.
//
//   test_support::OtlpReceiver otlp;
//   env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.endpoint();   // the exporter adds /v1/traces
//   ... requests to the service ...
//   auto got = otlp.wait_for_spans([](const rapidjson::Value& spans) { ... }, 10s);
//   ASSERT_TRUE(got.reached) << got.text;
//   EXPECT_TRUE(got.state["errors"].Empty()) << got.text;
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/webhook_receiver.hpp"

extern char** environ;

namespace test_support {

class OtlpReceiver {
 public:
  struct Options {
    std::chrono::milliseconds start_timeout{20'000};    // node's start on a loaded machine
    std::chrono::milliseconds request_timeout{10'000};  // one control call
    std::chrono::milliseconds stop_timeout{5'000};      // after SIGTERM, then SIGKILL
    std::chrono::milliseconds poll_interval{50};        // between two looks in wait_for*
  };

  OtlpReceiver() : OtlpReceiver(Options{}) {}
  explicit OtlpReceiver(Options options)
      : options_(options),
        process_("otlp receiver", "otlp_receiver.mjs", {}, options.start_timeout,
                 options.stop_timeout) {}
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;
  ~OtlpReceiver() = default;

  int port() const noexcept { return process_.port(); }
  pid_t pid() const noexcept { return process_.pid(); }
  // http://127.0.0.1:PORT, the value of OTEL_EXPORTER_OTLP_ENDPOINT (an exporter appends
  // /v1/traces to it, as the OpenTelemetry SDK environment specification says).
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }
  // http://127.0.0.1:PORT/v1/traces, the value of OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as
  // it is).
  std::string url(std::string_view path = "/v1/traces") const {
    return endpoint() + std::string(path);
  }

  // GET /_control/state as text: {"requests", "accepted", "refused", "errors": [...], "spans":
  // [...], "spans_dropped", "by_content_type", "mode"} (see otlp_receiver.mjs).
  std::string state_text() const { return expect(200, "GET", "/_control/state", {}).body; }

  // The same, parsed; throws when it is not JSON.
  rapidjson::Document state() const { return parse(state_text()); }

  // POST /_control/mode: every export answered `status` (200, or 400..599 with nothing kept),
  // for the next `n` exports only when n > 0, with a Retry-After of `retry_after` seconds when
  // it is >= 0. Throws unless the receiver took it.
  void set_mode(int status, int n = 0, int retry_after = -1) const {
    std::string body = "{\"status\":" + std::to_string(status);
    if (n > 0) body += ",\"n\":" + std::to_string(n);
    if (retry_after >= 0) body += ",\"retry_after\":" + std::to_string(retry_after);
    body += "}";
    expect(204, "POST", "/_control/mode", body);
  }

  // POST /_control/reset: forgets every request, error and span, back to status 200.
  void reset() const { expect(204, "POST", "/_control/reset", {}); }

  struct Waited {
    bool reached = false;
    rapidjson::Document state;  // the state when it returned
    std::string text;           // the same as text, for failure messages
  };

  // Looks at the state every poll_interval until `predicate(state)` holds, at most `timeout`.
  Waited wait_for(const std::function<bool(const rapidjson::Value& state)>& predicate,
                  std::chrono::milliseconds timeout) const {
    const auto deadline = webhook_detail::Clock::now() + timeout;
    for (;;) {
      Waited w;
      w.text = state_text();
      w.state = parse(w.text);
      w.reached = predicate(w.state);
      if (w.reached || webhook_detail::Clock::now() >= deadline) return w;
      const std::chrono::milliseconds left(webhook_detail::ms_left(deadline));
      std::this_thread::sleep_for(std::min(options_.poll_interval, left));
    }
  }

  // Until `predicate(spans)` holds for the array of spans received so far.
  Waited wait_for_spans(const std::function<bool(const rapidjson::Value& spans)>& predicate,
                        std::chrono::milliseconds timeout) const {
    return wait_for([&](const rapidjson::Value& s) { return predicate(s["spans"]); }, timeout);
  }

  // Until at least `count` spans were received.
  Waited wait_for_span_count(std::size_t count, std::chrono::milliseconds timeout) const {
    return wait_for_spans([count](const rapidjson::Value& spans) { return spans.Size() >= count; },
                          timeout);
  }

  // The spans of `spans` (the state's array) called `name`.
  // A span's attribute as text: a string as it is, an integer in decimal, "<missing>" when
  // absent, "<other>" for another type.
  static std::string attribute(const rapidjson::Value& span, const char* key) {
    const auto& attrs = span["attributes"];
    if (!attrs.HasMember(key)) return "<missing>";
    const auto& v = attrs[key];
    if (v.IsString()) return v.GetString();
    if (v.IsInt64()) return std::to_string(v.GetInt64());
    return "<other>";
  }

  static std::vector<const rapidjson::Value*> spans_named(const rapidjson::Value& spans,
                                                          std::string_view name) {
    std::vector<const rapidjson::Value*> out;
    for (const auto& span : spans.GetArray()) {
      if (std::string_view(span["name"].GetString(), span["name"].GetStringLength()) == name) {
        out.push_back(&span);
      }
    }
    return out;
  }

 private:
  static rapidjson::Document parse(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("spans") || !d["spans"].IsArray()) {
      throw std::runtime_error("otlp receiver: state is not the expected JSON: " +
                               text.substr(0, 200));
    }
    return d;
  }

  webhook_detail::HttpAnswer expect(int status, std::string_view method, const std::string& target,
                                    std::string_view body) const {
    auto answer = webhook_detail::http_call(port(), method, target, body, options_.request_timeout);
    if (answer.status != status) {
      throw std::runtime_error("otlp receiver: " + std::string(method) + " " + target +
                               " answered " + std::to_string(answer.status) + ": " + answer.body);
    }
    return answer;
  }

  Options options_;
  webhook_detail::NodeProcess process_;
};

}  // namespace test_support
