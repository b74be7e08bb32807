#include "kit/middleware/cors.hpp"
#include "kit/util/text.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/beast/core/string.hpp>

namespace kit::middleware {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

void add_vary(http::Response& res, std::string_view value) {
  const auto it = res.find(http::Field::vary);
  if (it == res.end()) {
    res.set(http::Field::vary, value);
    return;
  }
  const std::string_view current = it->value();
  if (current.find(value) != std::string_view::npos) return;
  std::string joined(current);
  joined += ", ";
  joined += value;
  res.set(http::Field::vary, joined);
}

}  // namespace

Cors::Cors(CorsOptions options) : options_(std::move(options)) {
  wildcard_ = std::find(options_.allow_origins.begin(), options_.allow_origins.end(), "*") !=
              options_.allow_origins.end();
  if (wildcard_ && options_.allow_credentials) {
    throw std::invalid_argument("CORS: '*' cannot be combined with credentials");
  }
  methods_ = join(options_.allow_methods);
  headers_ = join(options_.allow_headers);
  expose_ = join(options_.expose_headers);
}

bool Cors::origin_allowed(std::string_view origin) const {
  if (origin.empty() || origin.size() > 512) return false;
  if (wildcard_) return true;
  // Scheme and host are case-insensitive; browsers send them lowercased anyway.
  return std::any_of(
      options_.allow_origins.begin(), options_.allow_origins.end(),
      [&](const std::string& allowed) { return util::iequals_ascii(allowed, origin); });
}

bool Cors::method_allowed(std::string_view method) const {
  return std::any_of(options_.allow_methods.begin(), options_.allow_methods.end(),
                     [&](const std::string& m) { return m == method; });
}

http::Response Cors::preflight(const http::Request& req) const {
  http::Response res{http::Status::no_content, req.version()};
  add_vary(res, "Origin");
  const std::string_view origin = req[http::Field::origin];
  const std::string_view method = req[http::Field::access_control_request_method];
  if (!origin_allowed(origin) || !method_allowed(method)) return res;  // refused: no CORS headers
  res.set(http::Field::access_control_allow_origin, wildcard_ ? std::string_view{"*"} : origin);
  if (options_.allow_credentials) res.set(http::Field::access_control_allow_credentials, "true");
  res.set(http::Field::access_control_allow_methods, methods_);
  res.set(http::Field::access_control_allow_headers, headers_);
  res.set(http::Field::access_control_max_age, std::to_string(options_.max_age.count()));
  add_vary(res, "Access-Control-Request-Method");
  add_vary(res, "Access-Control-Request-Headers");
  return res;
}

void Cors::decorate(const http::Request& req, http::Response& res) const {
  add_vary(res, "Origin");
  const std::string_view origin = req[http::Field::origin];
  if (!origin_allowed(origin)) return;
  res.set(http::Field::access_control_allow_origin, wildcard_ ? std::string_view{"*"} : origin);
  if (options_.allow_credentials) res.set(http::Field::access_control_allow_credentials, "true");
  if (!expose_.empty()) res.set(http::Field::access_control_expose_headers, expose_);
}

std::optional<http::Response> Cors::before(http::Request& req, http::RequestContext&) {
  if (req.method() == http::Verb::options && req.find(http::Field::origin) != req.end() &&
      req.find(http::Field::access_control_request_method) != req.end()) {
    return preflight(req);
  }
  return std::nullopt;
}

void Cors::after(http::Request& req, http::RequestContext&, http::Response& res) {
  decorate(req, res);
}

}  // namespace kit::middleware
