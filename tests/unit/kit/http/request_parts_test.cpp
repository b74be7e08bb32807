// kit::http::with_parts: a handler receives the request parts its registration names as typed
// parameters, after what the caller passes, resolved left to right; a part that cannot be read
// throws before the handler runs.
#include "kit/http/request_parts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kit/errors/app_error.hpp"
#include "kit/http/response.hpp"
#include "kit/http/router.hpp"
#include "tests/support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
using namespace kit::http;  // the types under test

// A schema with the from_json / from_query shape of the service's schemas.
struct Greeting {
  std::string name;
  static Greeting from_json(const rapidjson::Value& body) {
    if (!body.IsObject() || !body.HasMember("name") || !body["name"].IsString()) {
      throw kit::errors::ValidationError({{"missing", "Field required", "name"}});
    }
    return {body["name"].GetString()};
  }
};

struct Page {
  std::string limit;
  static Page from_query(const FormFields& query) {
    return {std::string(query.get("limit").value_or("default"))};
  }
};

// Records the order in which parts are resolved.
std::vector<std::string>* resolved = nullptr;
template <int N>
struct Numbered {
  using type = int;
  static int resolve(Request&, RequestContext&) {
    resolved->push_back(std::to_string(N));
    return N;
  }
};

Request json_request(std::string target, std::string body) {
  Request req{Verb::post, std::move(target), 11};
  req.set(Field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

TEST(RequestParts, TheHandlerGetsTheBodyPathAndQueryTyped) {
  Router router;
  router.add(Verb::post, "/greet/{who}",
             with_parts<PathParam<"who">, JsonBody<Greeting>, Query<Page>>(
                 [](Request&, RequestContext&, std::string_view who, Greeting greeting,
                    Page page) -> asio::awaitable<Response> {
                   co_return json_response(Status::ok, "\"" + std::string(who) + ":" +
                                                           greeting.name + ":" + page.limit + "\"");
                 }));
  Request req = json_request("/greet/ada%20l?limit=5", R"({"name":"hi"})");
  RequestContext ctx;
  EXPECT_EQ(test_support::run_coroutine(router.dispatch(req, ctx)).body(), "\"ada l:hi:5\"");
}

TEST(RequestParts, WhatTheCallerPassesComesFirst) {
  const auto handler =
      with_parts<JsonBody<Greeting>>([](Request&, RequestContext&, const std::string& user,
                                        Greeting greeting) -> asio::awaitable<Response> {
        co_return json_response(Status::ok, "\"" + user + "/" + greeting.name + "\"");
      });
  Request req = json_request("/", R"({"name":"x"})");
  RequestContext ctx;
  const std::string user = "u1";
  EXPECT_EQ(test_support::run_coroutine(handler(req, ctx, user)).body(), "\"u1/x\"");
}

TEST(RequestParts, PartsResolveLeftToRight) {
  std::vector<std::string> order;
  resolved = &order;
  const auto handler = with_parts<Numbered<1>, Numbered<2>, Numbered<3>>(
      [](Request&, RequestContext&, int a, int b, int c) -> asio::awaitable<Response> {
        co_return json_response(Status::ok, std::to_string(a * 100 + b * 10 + c));
      });
  Request req{Verb::get, "/", 11};
  RequestContext ctx;
  EXPECT_EQ(test_support::run_coroutine(handler(req, ctx)).body(), "123");
  EXPECT_EQ(order, (std::vector<std::string>{"1", "2", "3"}));
  resolved = nullptr;
}

TEST(RequestParts, APartThatCannotBeReadThrowsBeforeTheHandlerRuns) {
  bool ran = false;
  const auto handler = with_parts<JsonBody<Greeting>>(
      [&ran](Request&, RequestContext&, Greeting) -> asio::awaitable<Response> {
        ran = true;
        co_return json_response(Status::ok, "{}");
      });
  RequestContext ctx;
  Request missing = json_request("/", R"({"nom":"x"})");
  EXPECT_THROW(handler(missing, ctx), kit::errors::ValidationError);
  Request not_json = json_request("/", "{");
  EXPECT_THROW(handler(not_json, ctx), kit::errors::BadRequest);
  Request form{Verb::post, "/", 11};
  form.set(Field::content_type, "text/plain");
  form.body() = "name=x";
  EXPECT_THROW(handler(form, ctx), kit::errors::UnsupportedMediaType);
  EXPECT_FALSE(ran);
}

}  // namespace
