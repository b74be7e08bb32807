#pragma once
// Per-request state shared by the middleware chain and the handler: correlation ids, the
// matched route, path parameters, the client address and a slot for what dependencies resolve
// (the current user). Lives on the connection coroutine's frame for one request.
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kit/async/deadline.hpp"
#include "kit/http/rate_limit_decision.hpp"
#include "kit/http/trace_context.hpp"
#include "kit/log/log.hpp"
#include "kit/trace/parent.hpp"

namespace kit::http {

struct RouteInfo;
struct Route;

class PathParams {
 public:
  void add(std::string_view name, std::string value) {
    items_.emplace_back(name, std::move(value));
  }
  // Empty when absent (the router guarantees declared parameters are present).
  std::string_view get(std::string_view name) const noexcept {
    for (const auto& [k, v] : items_) {
      if (k == name) return v;
    }
    return {};
  }
  void clear() noexcept { items_.clear(); }

 private:
  std::vector<std::pair<std::string_view, std::string>> items_;
};

struct RequestContext {
  std::string request_id;
  TraceContext trace;
  // Where this request's child spans go (docs/tracing.md "Child spans"): set by the Tracing
  // middleware when the request is sampled, pointing into `trace`; empty otherwise.
  kit::trace::Parent child_spans;
  std::string client_ip;   // the socket peer; later, X-Forwarded-For from trusted proxies
  std::string_view route;  // matched route template, empty when no route matched
  const RouteInfo* route_info = nullptr;
  const Route* matched_route = nullptr;  // set with route_info; null for a 404 or 405
  // True once Router::find has run for this request: route, route_info, params and
  // matched_route hold its answer. The server matches every request once, before the chain.
  bool routed = false;
  PathParams params;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // When the server gives up on this request (REQUEST_TIMEOUT_SECONDS) for routes that wait
  // (RouteInfo::waits); none otherwise. Handlers pass it to the work they start.
  kit::async::Deadline deadline;
  // The default rate-limit policy's decision, when it covers this request (the RateLimit link
  // adds its header fields to the response or error that comes back).
  std::optional<RateLimitDecision> rate_limit;
  // Header lines in wire form ("Name: value\r\n"…, see http::header_lines) that the server
  // writes after the response's own fields: constant fields every response carries (the
  // security headers), without allocating and inserting a field per response. They are not in
  // the Response object; http::add_fixed_headers() puts them there. The bytes must outlive the
  // request (static, or owned by a middleware).
  std::string_view fixed_headers;

  // Back to a fresh context for the next request, keeping the strings' and vectors' capacity:
  // the server reuses one context per exchange, so ids are written without an allocation.
  void reset() noexcept {
    request_id.clear();
    trace.trace_id.clear();
    trace.span_id.clear();
    trace.parent_id.clear();
    trace.flags.assign("00");
    child_spans = {};
    client_ip.clear();
    route = {};
    route_info = nullptr;
    matched_route = nullptr;
    routed = false;
    params.clear();
    started = std::chrono::steady_clock::now();
    deadline = {};
    rate_limit.reset();
    fixed_headers = {};
    log_fields_ = {kit::log::Field{"", nullptr}, kit::log::Field{"", nullptr},
                   kit::log::Field{"", nullptr}};
    bound_ = false;
  }

  // The parent of this request's child spans, or null when it is not sampled (what work below
  // the request takes, through its deadline or directly).
  const kit::trace::Parent* span_parent() const noexcept {
    return child_spans.sink != nullptr ? &child_spans : nullptr;
  }

  // Binds request_id, trace_id and span_id (this server's span) into every log line written
  // through log().
  void bind_log_context() {
    log_fields_[0] = {"request_id", std::string_view{request_id}};
    log_fields_[1] = {"trace_id", std::string_view{trace.trace_id}};
    log_fields_[2] = {"span_id", std::string_view{trace.span_id}};
    bound_ = true;
  }
  kit::log::Bound log(std::string_view logger) const {
    return kit::log::Bound(logger, bound_ ? std::span<const kit::log::Field>(log_fields_)
                                          : std::span<const kit::log::Field>());
  }

 private:
  std::array<kit::log::Field, 3> log_fields_{
      kit::log::Field{"", nullptr}, kit::log::Field{"", nullptr}, kit::log::Field{"", nullptr}};
  bool bound_ = false;
};

}  // namespace kit::http
