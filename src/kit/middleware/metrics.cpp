#include "kit/middleware/metrics.hpp"

#include <array>

namespace kit::middleware {

namespace {

constexpr unsigned kFirstStatus = 100;
constexpr unsigned kLastStatus = 999;

// "100" … "999" back to back, so a status label is a view into static storage.
constexpr auto kStatusDigits = [] {
  std::array<char, 3 * (kLastStatus - kFirstStatus + 1)> digits{};
  for (unsigned code = kFirstStatus; code <= kLastStatus; ++code) {
    const unsigned i = 3 * (code - kFirstStatus);
    digits[i] = static_cast<char>('0' + code / 100);
    digits[i + 1] = static_cast<char>('0' + code / 10 % 10);
    digits[i + 2] = static_cast<char>('0' + code % 10);
  }
  return digits;
}();

std::string_view method_label(http::Verb verb) noexcept {
  // Beast maps every method it does not know to verb::unknown; its own names are static.
  return verb == http::Verb::unknown ? std::string_view{"OTHER"} : http::bhttp::to_string(verb);
}

}  // namespace

std::string_view status_label(unsigned status) noexcept {
  if (status < kFirstStatus || status > kLastStatus) return "other";
  return {kStatusDigits.data() + 3 * (status - kFirstStatus), 3};
}

Metrics::Metrics(metrics::Registry& registry)
    : requests_(registry.counter("http_requests_total",
                                 "HTTP requests answered, by method, route template and status.",
                                 {"method", "route", "status"})),
      duration_(registry.histogram(
          "http_request_duration_seconds",
          "Time from a complete request to its response, by method and route template.",
          {"method", "route"}, metrics::latency_buckets())),
      in_flight_(
          registry.gauge("http_requests_in_flight", "HTTP requests being handled now.").labels()) {}

void Metrics::record(const http::Request& req, const http::RequestContext& ctx,
                     unsigned status) const {
  const std::string_view method = method_label(req.method());
  const std::string_view route = ctx.route.empty() ? kUnmatchedRoute : ctx.route;
  requests_.labels(method, route, status_label(status)).inc();
  duration_.labels(method, route)
      .observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count());
}

std::optional<http::Response> Metrics::before(http::Request&, http::RequestContext&) {
  in_flight_.inc();
  return std::nullopt;
}

void Metrics::after(http::Request& req, http::RequestContext& ctx, http::Response& res) {
  record(req, ctx, res.result_int());
}

std::optional<http::Response> Metrics::on_error(http::Request& req, http::RequestContext& ctx,
                                                std::exception*) {
  record(req, ctx, 500);
  return std::nullopt;
}

void Metrics::finish(http::RequestContext&) noexcept {
  in_flight_.dec();
}

}  // namespace kit::middleware
