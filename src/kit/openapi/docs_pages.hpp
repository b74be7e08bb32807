#pragma once
// The HTML of the interactive API docs, as FastAPI serves them: Swagger UI (/docs) and ReDoc
// (/redoc), both reading the OpenAPI document and loading their scripts and styles from an
// assets base, the public npm CDN by default or a locally served copy for air-gapped use.
// Each page comes with the Content-Security-Policy that lets it work and nothing more.
#include <string>
#include <string_view>

namespace kit::openapi {

// Package folders under the assets base, laid out as on the npm CDNs (jsDelivr, unpkg):
// <base>/swagger-ui-dist@5/swagger-ui-bundle.js, <base>/redoc@2/bundles/redoc.standalone.js.
inline constexpr std::string_view kSwaggerUiPackage = "swagger-ui-dist@5";
inline constexpr std::string_view kRedocPackage = "redoc@2";

struct DocsPageOptions {
  std::string title;                          // the API's name
  std::string openapi_url = "/openapi.json";  // same origin
  // An http(s) URL or an absolute path, without a trailing '/': "https://cdn.jsdelivr.net/npm".
  std::string assets_base;
};

struct DocsPage {
  std::string html;
  std::string content_security_policy;
};

DocsPage swagger_ui_page(const DocsPageOptions& options);
DocsPage redoc_page(const DocsPageOptions& options);

// The CSP source that allows one package folder under the assets base and nothing beside it:
// "https://cdn.example/npm/swagger-ui-dist@5/" for a URL ("," and ";" percent-encoded, as CSP
// requires), 'self' for a path on this server.
std::string csp_source(std::string_view assets_base, std::string_view package);

}  // namespace kit::openapi
