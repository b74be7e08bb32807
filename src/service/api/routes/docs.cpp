#include "service/api/routes/docs.hpp"

#include <memory>

#include "kit/http/response.hpp"
#include "kit/openapi/docs_pages.hpp"
#include "service/api/openapi.hpp"

namespace user_service::api {

namespace http = kit::http;
using boost::asio::awaitable;

namespace {

http::Handler html_page(std::shared_ptr<const kit::openapi::DocsPage> page) {
  return [page](http::Request& req, http::RequestContext&) -> awaitable<http::Response> {
    http::Response res{http::Status::ok, req.version()};
    res.set(http::Field::content_type, "text/html; charset=utf-8");
    // SecurityHeaders keeps a policy the route set (kit/middleware/security_headers.hpp).
    res.set("Content-Security-Policy", page->content_security_policy);
    res.body() = page->html;
    res.prepare_payload();
    co_return res;
  };
}

}  // namespace

void register_docs_routes(http::Router& router, const Settings& settings) {
  auto document = std::make_shared<const std::string>(openapi_document(settings, router));
  const kit::openapi::DocsPageOptions pages{.title = settings.app_name,
                                            .openapi_url = "/openapi.json",
                                            .assets_base = settings.docs_assets_url};
  const http::RouteInfo docs{.summary = "",
                             .tags = {"docs"},
                             .rate_limited = false,
                             .quiet = false,
                             .include_in_schema = false,
                             .waits = false};

  http::RouteInfo info = docs;
  info.summary = "The OpenAPI 3.1 document";
  router.add(
      http::Verb::get, "/openapi.json",
      [document](http::Request& req, http::RequestContext&) -> awaitable<http::Response> {
        co_return http::json_response(http::Status::ok, *document, req.version());
      },
      info);

  info.summary = "Swagger UI";
  router.add(http::Verb::get, "/docs",
             html_page(std::make_shared<const kit::openapi::DocsPage>(
                 kit::openapi::swagger_ui_page(pages))),
             info);

  info.summary = "ReDoc";
  router.add(
      http::Verb::get, "/redoc",
      html_page(std::make_shared<const kit::openapi::DocsPage>(kit::openapi::redoc_page(pages))),
      info);
}

}  // namespace user_service::api
