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

// Decrements the gauge however the request ends, also when the coroutine is destroyed
// while suspended (server shutdown).
class InFlight {
 public:
  explicit InFlight(metrics::Gauge& gauge) : gauge_(gauge) { gauge_.inc(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() { gauge_.dec(); }

 private:
  metrics::Gauge& gauge_;
};

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

boost::asio::awaitable<http::Response> Metrics::handle(http::Request& req,
                                                       http::RequestContext& ctx, http::Next next) {
  const InFlight in_flight(in_flight_);
  http::Response res;
  try {
    res = co_await next(req, ctx);
  } catch (...) {
    // ErrorMapping renders errors further in; whatever still escapes becomes the server's 500.
    record(req, ctx, 500);
    throw;
  }
  record(req, ctx, res.result_int());
  co_return res;
}

}  // namespace kit::middleware
