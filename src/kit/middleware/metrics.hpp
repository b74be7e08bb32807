#pragma once
// HTTP metrics (docs/http-api.md "GET /metrics") for every response the chain gives, error
// envelopes included (it sits outside ErrorMapping, next to AccessLog):
//   http_requests_total{method,route,status}            counter
//   http_request_duration_seconds{method,route}         histogram, from ctx.started
//   http_requests_in_flight                             gauge
// `route` is the matched route template (ctx.route, e.g. "/api/v1/users/{user_id}"), never the
// raw path. Requests no route handled get route="<unmatched>": unknown paths (404), protocol
// errors answered by the server (400/413/431) and CORS preflights answered before the router.
// `method` is one of the methods Beast knows, else "OTHER", so clients cannot mint label values.
//
// Per request: two lock-free label lookups (the strings are views, nothing is allocated) and a
// handful of relaxed atomic adds. The cells of the last label sets seen are remembered per
// thread, so a repeated (method, route, status) skips the hashing.
#include <cstdint>
#include <string_view>

#include "kit/http/pipeline.hpp"
#include "kit/metrics/registry.hpp"

namespace kit::middleware {

inline constexpr std::string_view kUnmatchedRoute = "<unmatched>";

class Metrics final : public http::HookMiddleware {
 public:
  explicit Metrics(metrics::Registry& registry);

  std::optional<http::Response> before(http::Request& req, http::RequestContext& ctx) override;
  void after(http::Request& req, http::RequestContext& ctx, http::Response& res) override;
  // ErrorMapping renders errors further in; whatever still escapes becomes the server's 500.
  std::optional<http::Response> on_error(http::Request& req, http::RequestContext& ctx,
                                         std::exception* error) override;
  // The in-flight gauge goes down however the request ends, also when its coroutine is
  // destroyed while suspended (server shutdown).
  void finish(http::RequestContext& ctx) noexcept override;

 private:
  void record(const http::Request& req, const http::RequestContext& ctx, unsigned status) const;

  struct Cells {
    metrics::Counter* requests;
    metrics::Histogram* duration;
  };
  Cells cells_for(std::string_view method, std::string_view route, unsigned status) const;

  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& duration_;
  metrics::Gauge& in_flight_;
  const std::uint64_t id_;  // tells this instance's entries in the per-thread cache apart
};

// The status code as a label value ("200"); "other" outside 100–999. No allocation.
std::string_view status_label(unsigned status) noexcept;

}  // namespace kit::middleware
