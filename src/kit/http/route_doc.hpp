#pragma once
// What a route declares about itself for its documentation (kit::openapi::Builder writes the
// OpenAPI document from it): its operation id, parameters, request bodies and responses. Part of
// kit::http::RouteInfo, so a route is described where it is registered and the document cannot
// drift from the route table. Plain data of the http layer: nothing here knows OpenAPI's format.
// Schemas are named: the builder resolves each name to a component schema registered with it.
// Every member has a default (even `= {}`): GCC 12 -Wmissing-field-initializers otherwise
// flags designated initializers that skip a member, and routes skip most of them.
#include <string>
#include <vector>

namespace kit::http::doc {

// A request body in one media type.
struct Content {
  std::string media_type = {};  // "application/json", "application/x-www-form-urlencoded"
  std::string schema = {};      // component schema name
};

struct Header {
  std::string name = {};
  std::string description = {};
};

// A response the handler itself produces: successes, and any body other than the error
// envelope (a readiness probe's 503, for instance).
struct Response {
  unsigned status = 200;
  std::string description = {};
  std::string schema = {};  // component schema of the JSON body; empty: no body
  std::vector<Header> headers = {};
};

// An error the route answers with the error envelope (docs/http-api.md "Errors").
struct Error {
  unsigned status = 0;
  std::string description = {};  // empty: the standard text for the status
};

// A query or path parameter. Path parameters come from the template by themselves; declaring
// one here only replaces its description and schema.
struct Parameter {
  std::string name = {};
  std::string in = "query";  // query | path
  bool required = false;
  std::string description = {};
  std::string schema = {};  // JSON Schema of the value as JSON text, e.g. {"type":"integer"}
};

// The errors a route gets without declaring them, because the kit produces them (see
// documented_statuses in builder.hpp): a request body → 400 (malformed, from kit/http/body),
// 413 (the server's body limit), 415 (Content-Type) and 422 (validation); query parameters →
// 400 and 422; `bearer` → 401 with WWW-Authenticate; a rate-limited route → 429 when the
// document is built with rate limiting on.
struct Operation {
  std::string operation_id = {};  // empty: derived from the method and path
  std::string description = {};
  std::vector<Parameter> parameters = {};
  std::vector<Content> request_body = {};  // one entry per accepted media type; empty: no body
  std::vector<Response> responses = {};
  std::vector<Error> errors = {};
  bool bearer = false;  // needs `Authorization: Bearer <token>`
};

}  // namespace kit::http::doc
