// kit::openapi docs pages: Swagger UI and ReDoc HTML from an assets base, escaping, and a
// Content-Security-Policy that allows exactly those assets and the page's one inline script.
#include "kit/openapi/docs_pages.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <string>

namespace {

using kit::openapi::DocsPageOptions;

// The inline script (the <script> without src) of a page.
std::string inline_script(const std::string& html) {
  const std::string open = "<script>";
  const auto start = html.find(open);
  if (start == std::string::npos) return {};
  const auto end = html.find("</script>", start);
  return html.substr(start + open.size(), end - start - open.size());
}

std::string sha256_base64(const std::string& text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  std::array<unsigned char, 64> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(digest.size()));
  return std::string(reinterpret_cast<const char*>(b64.data()), n);
}

const DocsPageOptions kCdn{.title = "User Service",
                           .openapi_url = "/openapi.json",
                           .assets_base = "https://cdn.jsdelivr.net/npm"};

TEST(DocsPages, SwaggerUiLoadsItsAssetsFromTheBaseAndReadsTheDocument) {
  const auto page = kit::openapi::swagger_ui_page(kCdn);
  for (const char* needle :
       {"<title>User Service - Swagger UI</title>",
        R"(href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css")",
        R"(src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js")",
        R"(<div id="swagger-ui"></div>)", R"(url: "/openapi.json")", "validatorUrl: null"}) {
    EXPECT_NE(page.html.find(needle), std::string::npos) << needle << "\n" << page.html;
  }
}

TEST(DocsPages, SwaggerUiPolicyAllowsTheAssetsAndTheHashedInlineScriptOnly) {
  const auto page = kit::openapi::swagger_ui_page(kCdn);
  const std::string script = inline_script(page.html);
  ASSERT_FALSE(script.empty());
  EXPECT_EQ(page.content_security_policy,
            "default-src 'none'; script-src https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/ "
            "'sha256-" +
                sha256_base64(script) +
                "'; style-src https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/; img-src "
                "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/ data:; connect-src 'self'; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  EXPECT_EQ(page.content_security_policy.find("unsafe"), std::string::npos);
}

TEST(DocsPages, RedocPage) {
  const auto page = kit::openapi::redoc_page(kCdn);
  EXPECT_NE(page.html.find("<title>User Service - ReDoc</title>"), std::string::npos);
  EXPECT_NE(page.html.find(R"(<redoc spec-url="/openapi.json"></redoc>)"), std::string::npos);
  EXPECT_NE(
      page.html.find(R"(src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js")"),
      std::string::npos);
  EXPECT_TRUE(inline_script(page.html).empty());  // nothing inline to allow
  EXPECT_EQ(page.content_security_policy,
            "default-src 'none'; script-src https://cdn.jsdelivr.net/npm/redoc@2/; "
            "style-src 'unsafe-inline'; img-src data:; worker-src blob:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
}

TEST(DocsPages, APathBaseIsThisServer) {
  const DocsPageOptions local{.title = "T", .assets_base = "/static/vendor"};
  const auto page = kit::openapi::swagger_ui_page(local);
  EXPECT_NE(page.html.find(R"(src="/static/vendor/swagger-ui-dist@5/swagger-ui-bundle.js")"),
            std::string::npos);
  EXPECT_NE(page.content_security_policy.find("; script-src 'self' 'sha256-"), std::string::npos)
      << page.content_security_policy;
  EXPECT_EQ(kit::openapi::csp_source("/static", "redoc@2"), "'self'");
}

TEST(DocsPages, NothingFromTheSettingsCanBreakOutOfItsPlace) {
  const DocsPageOptions hostile{.title = R"(<script>alert("t")</script> & 'x')",
                                .openapi_url = R"(/o.json"</script><script>alert(1)//)",
                                .assets_base = R"(https://a.example/x;script-src *,y")"};
  const auto swagger = kit::openapi::swagger_ui_page(hostile);
  EXPECT_NE(swagger.html.find("<title>&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; "
                              "&#39;x&#39; - Swagger UI</title>"),
            std::string::npos)
      << swagger.html;
  EXPECT_EQ(swagger.html.find("<script>alert"), std::string::npos) << swagger.html;
  // The document URL stays one JavaScript string inside the one inline script.
  EXPECT_NE(swagger.html.find(R"(url: "/o.json\"\u003c/script>\u003cscript>alert(1)//")"),
            std::string::npos)
      << swagger.html;
  EXPECT_NE(
      swagger.html.find(R"(src="https://a.example/x;script-src *,y&quot;/swagger-ui-dist@5/)"),
      std::string::npos);
  // In the policy, ';' and ',' cannot start a directive or a policy.
  EXPECT_NE(swagger.content_security_policy.find(
                "script-src https://a.example/x%3Bscript-src%20*%2Cy%22/swagger-ui-dist@5/ "),
            std::string::npos)
      << swagger.content_security_policy;
  const auto redoc = kit::openapi::redoc_page(hostile);
  EXPECT_NE(redoc.html.find(R"(spec-url="/o.json&quot;&lt;/script&gt;)"), std::string::npos);
  EXPECT_EQ(redoc.html.find("<script>alert"), std::string::npos);
}

}  // namespace
