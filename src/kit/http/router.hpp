#pragma once
// Method + path-template routing (`/api/v1/users/{user_id}`, typed as `{id:int}` or
// `{id:uuid}`). A trailing slash is accepted either way without a redirect. An unknown path is
// a 404 NotFound, a known path with the wrong method a 405 MethodNotAllowed with `Allow`
// (match() throws them, dispatch() answers with their envelope). HEAD is served by the GET
// handler. The route table is also what the OpenAPI generator reads.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kit/http/request_context.hpp"
#include "kit/http/route_doc.hpp"
#include "kit/http/types.hpp"

namespace kit::http {

// Route metadata read by middleware (logging, rate limits) and the OpenAPI generator.
struct RouteInfo {
  std::string summary = {};  // `= {}`: designated initializers may skip it (GCC 12 warns else)
  std::vector<std::string> tags = {};
  bool rate_limited = true;       // false: health, metrics, docs (README "Rate limiting")
  bool quiet = false;             // true: access log at debug level (health, metrics)
  bool include_in_schema = true;  // false: docs pages themselves
  // false: the handler answers from memory and never waits (liveness, metrics, docs), so the
  // server does not race it against REQUEST_TIMEOUT_SECONDS: that race costs a coroutine and a
  // timer per request (server.cpp, handle_bounded).
  bool waits = true;
  doc::Operation openapi = {};  // parameters, bodies and responses for the document
};

enum class ParamType { string, integer, uuid };

struct Route {
  Verb method;
  std::string path;  // the template as registered, e.g. "/api/v1/users/{user_id}"
  Handler handler;
  RouteInfo info;

  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
    ParamType type = ParamType::string;
  };
  std::vector<Segment> segments;
};

class Router {
 public:
  // Registers a route; throws std::invalid_argument for a malformed template or a duplicate.
  void add(Verb method, std::string path, Handler handler, RouteInfo info = {});

  // Finds the route for `method` and `path` (no query string), fills ctx.route, ctx.route_info,
  // ctx.params and ctx.matched_route (ctx.routed), and returns it. Throws NotFound or
  // MethodNotAllowed.
  const Route& match(Verb method, std::string_view path, RequestContext& ctx) const;
  // Like match() without throwing: null when no route takes `method` on `path` (ctx.route is
  // then set when the path is known, as for a 405). The server calls it once per request,
  // before the middleware chain, so every link sees the route.
  const Route* find(Verb method, std::string_view path, RequestContext& ctx) const;

  // The terminal handler of the middleware chain: the route's handler, or the 404/405 envelope
  // (returned, not thrown). Uses the match in ctx when ctx.routed, else matches itself.
  boost::asio::awaitable<Response> dispatch(Request& req, RequestContext& ctx) const;

  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  // Routes without parameters, by method and path (without the leading slash and one trailing
  // slash, as split_path() reads it): matched by one comparison instead of a scan of every
  // route's segments. A literal route for the wanted method wins anyway.
  struct StaticRoute {
    Verb method;
    std::string key;
    std::size_t index;
  };
  const Route* find_static(Verb method, std::string_view path) const noexcept;
  // The `Allow` value for a path no route of the wanted method takes ("" when none takes it).
  std::string allowed_methods(std::string_view path) const;

  std::vector<Route> routes_;
  std::vector<StaticRoute> static_routes_;
};

// The path part of a request target ("/a/b?x=1" → "/a/b").
std::string_view target_path(std::string_view target) noexcept;
// The query part without '?' ("" when none).
std::string_view target_query(std::string_view target) noexcept;

}  // namespace kit::http
