#include "kit/http/router.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "kit/errors/app_error.hpp"
#include "kit/http/error_response.hpp"
#include "kit/util/text.hpp"
#include "kit/util/uuid.hpp"

namespace kit::http {
namespace {

// The path without its leading slash and one trailing slash: "/x" and "/x/" are one route.
std::string_view trim_slashes(std::string_view path) noexcept {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

// Splits "/a/b/" into {"a","b"}; the root "/" is no segments. A single trailing slash is
// ignored so "/x" and "/x/" match the same route.
void split_path(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  path = trim_slashes(path);
  while (!path.empty()) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

bool param_accepts(ParamType type, std::string_view value) {
  switch (type) {
    case ParamType::string:
      return !value.empty();
    case ParamType::integer:
      return !value.empty() && value.size() <= 18 &&
             std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    case ParamType::uuid:
      return util::is_uuid(value);
  }
  return false;
}

}  // namespace

std::string_view target_path(std::string_view target) noexcept {
  return target.substr(0, target.find('?'));
}

std::string_view target_query(std::string_view target) noexcept {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

void Router::add(Verb method, std::string path, Handler handler, RouteInfo info) {
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument("route path must start with '/': " + path);
  }
  Route route{method, path, std::move(handler), std::move(info), {}};
  std::vector<std::string_view> parts;
  split_path(route.path, parts);
  for (std::string_view part : parts) {
    Route::Segment seg;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view spec = part.substr(1, part.size() - 2);
      seg.is_param = true;
      const auto colon = spec.find(':');
      if (colon != std::string_view::npos) {
        const std::string_view type = spec.substr(colon + 1);
        if (type == "int") {
          seg.type = ParamType::integer;
        } else if (type == "uuid") {
          seg.type = ParamType::uuid;
        } else if (type != "str") {
          throw std::invalid_argument("unknown path parameter type in " + path);
        }
        spec = spec.substr(0, colon);
      }
      if (spec.empty()) throw std::invalid_argument("empty path parameter name in " + path);
      // A name is an identifier: "{a{b}" or "{a b}" is a typo, not a parameter called that.
      const bool identifier = std::all_of(spec.begin(), spec.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
      });
      if (!identifier) throw std::invalid_argument("malformed path parameter name in " + path);
      seg.text = std::string(spec);
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("malformed path template " + path);
      }
      seg.text = std::string(part);
    }
    route.segments.push_back(std::move(seg));
  }
  for (const Route& existing : routes_) {
    if (existing.method != method || existing.segments.size() != route.segments.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < route.segments.size() && same; ++i) {
      const auto& a = existing.segments[i];
      const auto& b = route.segments[i];
      same = a.is_param == b.is_param && (a.is_param || a.text == b.text);
    }
    if (same) throw std::invalid_argument("duplicate route " + path);
  }
  const bool literal = std::none_of(route.segments.begin(), route.segments.end(),
                                    [](const Route::Segment& s) { return s.is_param; });
  if (literal) {
    static_routes_.push_back({method, std::string(trim_slashes(route.path)), routes_.size()});
  }
  routes_.push_back(std::move(route));
}

const Route* Router::find_static(Verb method, std::string_view path) const noexcept {
  const std::string_view key = trim_slashes(path);
  for (const StaticRoute& r : static_routes_) {
    if (r.method == method && r.key.size() == key.size() && r.key == key) return &routes_[r.index];
  }
  return nullptr;
}

namespace {

// Whether `route`'s template matches the path segments `parts` (typed parameters included).
bool path_matches(const Route& route, const std::vector<std::string_view>& parts) {
  if (route.segments.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = route.segments[i];
    if (seg.is_param) {
      // Typed parameters are checked on the decoded value below.
      if (parts[i].empty()) return false;
    } else if (seg.text != parts[i]) {
      return false;
    }
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = route.segments[i];
    if (seg.is_param && seg.type != ParamType::string) {
      auto decoded = util::percent_decode(parts[i]);
      if (!decoded || !param_accepts(seg.type, *decoded)) return false;
    }
  }
  return true;
}

std::ptrdiff_t literal_segments(const Route& route) {
  return std::count_if(route.segments.begin(), route.segments.end(),
                       [](const Route::Segment& s) { return !s.is_param; });
}

}  // namespace

const Route* Router::find(Verb method, std::string_view path, RequestContext& ctx) const {
  const Verb wanted = method == Verb::head ? Verb::get : method;
  ctx.routed = true;
  if (const Route* literal = find_static(wanted, path)) {
    ctx.route = literal->path;
    ctx.route_info = &literal->info;
    ctx.matched_route = literal;
    ctx.params.clear();
    return literal;
  }
  thread_local std::vector<std::string_view> parts;
  split_path(path, parts);
  const Route* found = nullptr;
  const Route* first_path_match = nullptr;
  for (const Route& route : routes_) {
    if (!path_matches(route, parts)) continue;
    if (first_path_match == nullptr) first_path_match = &route;
    // Literal segments win over parameters: "/users/me" before "/users/{user_id}".
    if (route.method == wanted &&
        (found == nullptr || literal_segments(route) > literal_segments(*found))) {
      found = &route;
    }
  }
  if (found == nullptr) {
    // The path is known: logs and metrics name its template even though the method is wrong.
    if (first_path_match != nullptr) ctx.route = first_path_match->path;
    return nullptr;
  }
  ctx.route = found->path;
  ctx.route_info = &found->info;
  ctx.matched_route = found;
  ctx.params.clear();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = found->segments[i];
    if (!seg.is_param) continue;
    auto decoded = util::percent_decode(parts[i]);
    ctx.params.add(seg.text, decoded ? std::move(*decoded) : std::string(parts[i]));
  }
  return found;
}

std::string Router::allowed_methods(std::string_view path) const {
  std::vector<std::string_view> parts;
  split_path(path, parts);
  std::vector<std::string> allowed;
  for (const Route& r : routes_) {
    if (!path_matches(r, parts)) continue;
    allowed.emplace_back(bhttp::to_string(r.method));
    if (r.method == Verb::get) allowed.emplace_back("HEAD");
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  std::string allow;
  for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
  return allow;
}

const Route& Router::match(Verb method, std::string_view path, RequestContext& ctx) const {
  if (const Route* found = find(method, path, ctx)) return *found;
  std::string allow = allowed_methods(path);
  if (allow.empty()) throw errors::NotFound("Not found");
  throw errors::MethodNotAllowed(std::move(allow));
}

namespace {

boost::asio::awaitable<Response> answer(Response res) {
  co_return res;
}

}  // namespace

// Not a coroutine: it returns the handler's own awaitable, so a request costs no extra frame
// (see bench/). An unknown path (404) or method (405) is answered with the error envelope, not
// thrown: a throw costs a stack unwind through the callers' coroutine frames.
boost::asio::awaitable<Response> Router::dispatch(Request& req, RequestContext& ctx) const {
  // The server matched the request before the middleware chain (ctx.routed); a caller that did
  // not gets the match here.
  const std::string_view path = target_path(req.target());
  const Route* route = ctx.routed ? ctx.matched_route : find(req.method(), path, ctx);
  if (route == nullptr) {
    std::string allow = allowed_methods(path);
    if (allow.empty()) {
      return answer(error_response(errors::NotFound("Not found"), ctx.request_id, req.version()));
    }
    return answer(
        error_response(errors::MethodNotAllowed(std::move(allow)), ctx.request_id, req.version()));
  }
  return route->handler(req, ctx);
}

}  // namespace kit::http
