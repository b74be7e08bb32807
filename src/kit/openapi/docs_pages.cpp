#include "kit/openapi/docs_pages.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cstdio>

#include "kit/json/writer.hpp"
#include "kit/util/text.hpp"

namespace kit::openapi {
namespace {

// The CSP hash source of an inline script: 'sha256-<base64 of the digest>'. Hashing lets the
// page run its one initialisation script without 'unsafe-inline'.
std::string sha256_source(std::string_view script) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest.data());
  std::array<unsigned char, 4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(digest.size()));
  return "'sha256-" + std::string(reinterpret_cast<const char*>(b64.data()), n) + "'";
}

// A JavaScript string literal that cannot end the <script> element it sits in.
std::string js_string(std::string_view s) {
  std::string quoted;
  json::append_string(quoted, s);
  std::string out;
  for (const char c : quoted) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string asset(const DocsPageOptions& o, std::string_view package, std::string_view file) {
  std::string url = o.assets_base;
  url += '/';
  url += package;
  url += '/';
  url += file;
  return kit::util::html_escape(url);
}

std::string head(const DocsPageOptions& o, std::string_view suffix) {
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>" +
         kit::util::html_escape(o.title) + " - " + std::string(suffix) + "</title>\n";
}

}  // namespace

std::string csp_source(std::string_view assets_base, std::string_view package) {
  if (!assets_base.starts_with("http://") && !assets_base.starts_with("https://")) {
    return "'self'";
  }
  std::string source;
  const auto encode = [&source](char c) {
    const auto u = static_cast<unsigned char>(c);
    // CSP separates sources with white space and directives with ';', policies with ','.
    if (c == ';' || c == ',' || c == '\'' || c == '"' || u <= 0x20U || u >= 0x7fU) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      source += buf;
    } else {
      source += c;
    }
  };
  for (const char c : assets_base) encode(c);
  source += '/';
  for (const char c : package) encode(c);
  source += '/';
  return source;
}

DocsPage swagger_ui_page(const DocsPageOptions& o) {
  // BaseLayout: the operations only, no top bar with a URL box that could load another
  // document. validatorUrl null: no badge fetched from the public validator.
  const std::string init = "window.ui = SwaggerUIBundle({url: " + js_string(o.openapi_url) +
                           ", dom_id: \"#swagger-ui\", layout: \"BaseLayout\", "
                           "deepLinking: true, showExtensions: true, showCommonExtensions: true, "
                           "validatorUrl: null, "
                           "presets: [SwaggerUIBundle.presets.apis, "
                           "SwaggerUIBundle.SwaggerUIStandalonePreset]});";
  DocsPage page;
  page.html = head(o, "Swagger UI") + "<link rel=\"stylesheet\" href=\"" +
              asset(o, kSwaggerUiPackage, "swagger-ui.css") + "\">\n" +
              "<link rel=\"icon\" type=\"image/png\" href=\"" +
              asset(o, kSwaggerUiPackage, "favicon-32x32.png") + "\">\n</head>\n<body>\n" +
              "<div id=\"swagger-ui\"></div>\n<script src=\"" +
              asset(o, kSwaggerUiPackage, "swagger-ui-bundle.js") + "\"></script>\n<script>" +
              init + "</script>\n</body>\n</html>\n";
  const std::string assets = csp_source(o.assets_base, kSwaggerUiPackage);
  // img-src data: for the icons Swagger UI's stylesheet embeds; connect-src 'self' for the
  // document, the token request of "Authorize" and "Try it out".
  page.content_security_policy = "default-src 'none'; script-src " + assets + " " +
                                 sha256_source(init) + "; style-src " + assets + "; img-src " +
                                 assets +
                                 " data:; connect-src 'self'; base-uri 'none'; "
                                 "form-action 'none'; frame-ancestors 'none'";
  return page;
}

DocsPage redoc_page(const DocsPageOptions& o) {
  DocsPage page;
  page.html = head(o, "ReDoc") + "</head>\n<body>\n<redoc spec-url=\"" +
              kit::util::html_escape(o.openapi_url) + "\"></redoc>\n<script src=\"" +
              asset(o, kRedocPackage, "bundles/redoc.standalone.js") +
              "\"></script>\n</body>\n</html>\n";
  const std::string assets = csp_source(o.assets_base, kRedocPackage);
  // ReDoc injects its styles at run time (styled-components) and runs its search index in a
  // worker made from a blob: URL.
  page.content_security_policy = "default-src 'none'; script-src " + assets +
                                 "; style-src 'unsafe-inline'; img-src data:; worker-src blob:; "
                                 "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                                 "frame-ancestors 'none'";
  return page;
}

}  // namespace kit::openapi
