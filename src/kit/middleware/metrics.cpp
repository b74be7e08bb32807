#include "kit/middleware/metrics.hpp"

#include <algorithm>
#include <array>
#include <atomic>

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

std::atomic<std::uint64_t> next_instance_id{1};

// One remembered label set: (instance, method, status, route text) -> its cells. The route is
// copied (route templates are short; longer ones are not remembered), so an entry never points
// at a string that may be gone.
struct CachedCells {
  std::uint64_t owner = 0;       // 0: empty
  const char* method = nullptr;  // Beast's static method names, or "OTHER"
  unsigned status = 0;
  std::uint8_t route_size = 0;
  std::array<char, 62> route{};
  void* requests = nullptr;
  void* duration = nullptr;
};
constexpr std::size_t kCachedCells = 32;

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
          registry.gauge("http_requests_in_flight", "HTTP requests being handled now.").labels()),
      id_(next_instance_id.fetch_add(1, std::memory_order_relaxed)) {}

Metrics::Cells Metrics::cells_for(std::string_view method, std::string_view route,
                                  unsigned status) const {
  thread_local std::array<CachedCells, kCachedCells> cache;
  // The slot comes from the route's address (route templates live in the router), the entry
  // is checked against the route's text.
  const std::size_t slot =
      (reinterpret_cast<std::uintptr_t>(route.data()) / 8 + status * 7 + method.size()) %
      kCachedCells;
  CachedCells& entry = cache[slot];
  const bool cacheable = route.size() <= entry.route.size();
  if (cacheable && entry.owner == id_ && entry.method == method.data() && entry.status == status &&
      entry.route_size == route.size() &&
      std::equal(route.begin(), route.end(), entry.route.begin())) {
    return {static_cast<metrics::Counter*>(entry.requests),
            static_cast<metrics::Histogram*>(entry.duration)};
  }
  const Cells cells{&requests_.labels(method, route, status_label(status)),
                    &duration_.labels(method, route)};
  if (cacheable) {
    entry.owner = id_;
    entry.method = method.data();
    entry.status = status;
    entry.route_size = static_cast<std::uint8_t>(route.size());
    std::copy(route.begin(), route.end(), entry.route.begin());
    entry.requests = cells.requests;
    entry.duration = cells.duration;
  }
  return cells;
}

void Metrics::record(const http::Request& req, const http::RequestContext& ctx,
                     unsigned status) const {
  const std::string_view method = method_label(req.method());
  const std::string_view route = ctx.route.empty() ? kUnmatchedRoute : ctx.route;
  const Cells cells = cells_for(method, route, status);
  cells.requests->inc();
  cells.duration->observe(
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
