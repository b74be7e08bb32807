#pragma once
// Builds an OpenAPI 3.1 document from the router's route table (every route with
// include_in_schema) and the component schemas the application registers. Built once at
// start-up; an inconsistent description (a schema name nobody registered, a duplicate
// operationId, a parameter the path does not have) throws std::logic_error there, so it can
// never be served.
#include <string>
#include <vector>

#include "kit/http/router.hpp"

namespace kit::openapi {

struct Tag {
  std::string name;
  std::string description;
};

struct Options {
  std::string title;
  std::string version;
  std::string description;
  std::vector<Tag> tags;  // in display order; tags routes use but this omits follow, bare
  // OAuth2 password flow (RFC 6749 §4.3) for routes with `bearer`; Swagger UI's "Authorize"
  // posts the form to token_url.
  std::string security_scheme = "OAuth2PasswordBearer";
  std::string token_url;
  // Where the flow's refresh_token grant is posted (OpenAPI `refreshUrl`); empty: none.
  std::string refresh_url = {};
  bool rate_limiting = true;  // rate-limited routes document 429
};

// The error envelope's component schemas (docs/http-api.md "Errors"), always present.
inline constexpr std::string_view kErrorSchema = "ErrorResponse";
inline constexpr std::string_view kErrorDetailSchema = "ErrorDetail";

class Builder {
 public:
  explicit Builder(Options options);

  // Registers a component schema: a JSON Schema object as JSON text. It may refer to other
  // components as {"$ref": "#/components/schemas/<name>"}. Throws std::invalid_argument for
  // text that is not a JSON object or a name registered twice.
  Builder& schema(std::string name, std::string json_schema);

  // The document as JSON text.
  std::string build(const http::Router& router) const;

 private:
  struct Component {
    std::string name;
    std::string json;
  };
  Options options_;
  std::vector<Component> components_;
};

// The response statuses the document gives a route, ascending: its responses, its errors and
// the ones the kit adds (see kit/http/route_doc.hpp).
std::vector<unsigned> documented_statuses(const http::RouteInfo& info, const Options& options);

// The path as OpenAPI writes it: "/users/{id:uuid}/" → "/users/{id}/".
std::string openapi_path(const http::Route& route);

}  // namespace kit::openapi
