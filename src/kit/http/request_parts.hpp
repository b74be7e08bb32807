#pragma once
// Typed request parts: a handler declares, in its registration, the parts of the request it
// needs, and receives each one as a typed parameter after those it already gets:
//
//   awaitable<Response> update_me(Request&, RequestContext&, const User& current_user,
//                                 UserUpdate change);
//   router.add(Verb::patch, "/users/me",
//              current.protect(with_parts<JsonBody<UserUpdate>>(update_me)), info);
//
// A part is a type with `using type = …;` and `static type resolve(Request&, RequestContext&)`,
// which reads the request and throws the kit's errors (415, 400, 422) when it cannot. Parts are
// resolved left to right when the handler is called, so whatever wraps the call — an
// authentication check, a rate-limit budget — runs before the body is read.
#include <cstddef>
#include <string_view>
#include <tuple>
#include <utility>

#include <rapidjson/document.h>

#include "kit/http/body.hpp"
#include "kit/http/request_context.hpp"
#include "kit/http/types.hpp"

namespace kit::http {

// A string literal as a template argument: PathParam<"user_id">.
template <std::size_t N>
struct FixedName {
  constexpr FixedName(const char (&text)[N]) noexcept {  // NOLINT: implicit by design
    for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
  }
  constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
  char chars[N] = {};
};

// The body as one strict JSON document (read_json_body), then Schema::from_json.
template <class Schema>
struct JsonBody {
  using type = Schema;
  static Schema resolve(Request& req, RequestContext&) {
    rapidjson::Document document;
    read_json_body(req, document);
    return Schema::from_json(document);
  }
};

// The query string (read_query), then Schema::from_query.
template <class Schema>
struct Query {
  using type = Schema;
  static Schema resolve(Request& req, RequestContext&) {
    return Schema::from_query(read_query(req));
  }
};

// A parameter of the route's path template, percent-decoded by the router. It views
// RequestContext::params, which lives as long as the request.
template <FixedName Name>
struct PathParam {
  using type = std::string_view;
  static std::string_view resolve(Request&, RequestContext& ctx) {
    return ctx.params.get(Name.view());
  }
};

// Wraps `handler` so that it is called with the request, the context, whatever the caller
// passes (the current user, …) and then the resolved Parts, in order.
template <class... Parts, class Handler>
auto with_parts(Handler handler) {
  return [handler = std::move(handler)](Request& req, RequestContext& ctx, auto&&... given) {
    // Braced initialization resolves the parts left to right.
    std::tuple<typename Parts::type...> parts{Parts::resolve(req, ctx)...};
    return std::apply(
        [&](auto&... part) {
          return handler(req, ctx, std::forward<decltype(given)>(given)..., std::move(part)...);
        },
        parts);
  };
}

}  // namespace kit::http
