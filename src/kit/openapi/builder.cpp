#include "kit/openapi/builder.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "kit/json/writer.hpp"

namespace kit::openapi {
namespace {

// What routes declare about themselves (kit/http/route_doc.hpp).
using http::doc::Content;
using http::doc::Error;
using http::doc::Header;
using http::doc::Operation;
using http::doc::Parameter;
using http::doc::Response;

constexpr std::string_view kSchemaRefPrefix = "#/components/schemas/";
constexpr std::string_view kJson = "application/json";

// The envelope rendered by kit/errors/envelope.cpp.
constexpr std::string_view kErrorResponseJson = R"({"type":"object",
"description":"The envelope of every error response",
"required":["error","message","request_id"],
"properties":{
"error":{"type":"string","description":"Machine-readable code: BAD_REQUEST, UNAUTHORIZED, INVALID_CREDENTIALS, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, CONFLICT, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, VALIDATION_ERROR, HEADERS_TOO_LARGE, RATE_LIMITED, INTERNAL_ERROR or SERVICE_UNAVAILABLE","examples":["VALIDATION_ERROR"]},
"message":{"type":"string","description":"Human-readable text, safe to show"},
"details":{"type":"array","items":{"$ref":"#/components/schemas/ErrorDetail"},"description":"One entry per problem; present only when there are any"},
"request_id":{"type":"string","description":"The request's X-Request-ID"}}})";

constexpr std::string_view kErrorDetailJson = R"({"type":"object",
"description":"One problem with the request",
"required":["code","message"],
"properties":{
"code":{"type":"string","description":"missing, invalid_type, invalid_email, too_short, too_long or invalid_value","examples":["too_short"]},
"message":{"type":"string","description":"Human-readable text, safe to show"},
"field":{"type":"string","description":"The request field it is about, when there is one","examples":["password"]}}})";

std::string_view standard_description(unsigned status) {
  switch (status) {
    case 400:
      return "Malformed request: invalid JSON, form or query string, or invalid UTF-8";
    case 401:
      return "Missing, invalid or expired bearer token";
    case 403:
      return "Not allowed";
    case 404:
      return "Not found";
    case 409:
      return "Conflict with the current state";
    case 413:
      return "Request body larger than the limit";
    case 415:
      return "Unsupported Content-Type";
    case 422:
      return "Validation failed: one detail per failing field, all at once";
    case 429:
      return "Too many requests: retry after Retry-After seconds";
    case 503:
      return "Service unavailable: retry after Retry-After seconds";
    default:
      break;
  }
  return "Error";
}

bool has_query_parameters(const Operation& op) {
  return std::any_of(op.parameters.begin(), op.parameters.end(),
                     [](const Parameter& p) { return p.in == "query"; });
}

// Status → description of the errors a route documents.
std::map<unsigned, std::string> effective_errors(const http::RouteInfo& info,
                                                 const Options& options) {
  const Operation& op = info.openapi;
  std::map<unsigned, std::string> errors;
  const auto add = [&errors](unsigned status) { errors.emplace(status, std::string()); };
  if (!op.request_body.empty()) {
    for (const unsigned s : {400U, 413U, 415U, 422U}) add(s);
  }
  if (has_query_parameters(op)) {
    for (const unsigned s : {400U, 422U}) add(s);
  }
  if (op.bearer) add(401);
  const bool limited = info.rate_limited && options.rate_limiting;
  if (limited) add(429);
  for (const Error& e : op.errors) {
    if (e.status == 429 && !limited) continue;  // a route's own 429 words need rate limiting on
    errors[e.status] = e.description;
  }
  for (auto& [status, description] : errors) {
    if (description.empty()) description = standard_description(status);
  }
  return errors;
}

rapidjson::Document parse_object(std::string_view text, const std::string& what) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw std::invalid_argument(what + " is not a JSON object");
  }
  return doc;
}

// `text` (a JSON object) without insignificant white space.
std::string compact(std::string_view text, const std::string& what) {
  const rapidjson::Document doc = parse_object(text, what);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Every "$ref" to a component schema inside `v`.
void collect_refs(const rapidjson::Value& v, std::set<std::string>& out) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (key == "$ref" && m.value.IsString()) {
        const std::string_view ref(m.value.GetString(), m.value.GetStringLength());
        if (!ref.starts_with(kSchemaRefPrefix)) {
          throw std::logic_error("unsupported $ref " + std::string(ref));
        }
        out.emplace(ref.substr(kSchemaRefPrefix.size()));
      } else {
        collect_refs(m.value, out);
      }
    }
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) collect_refs(item, out);
  }
}

std::string method_key(http::Verb verb) {
  switch (verb) {
    case http::Verb::get:
      return "get";
    case http::Verb::put:
      return "put";
    case http::Verb::post:
      return "post";
    case http::Verb::delete_:
      return "delete";
    case http::Verb::options:
      return "options";
    case http::Verb::head:
      return "head";
    case http::Verb::patch:
      return "patch";
    case http::Verb::trace:
      return "trace";
    default:
      break;
  }
  throw std::logic_error("OpenAPI has no operation for method " +
                         std::string(http::bhttp::to_string(verb)));
}

// FastAPI-like default: "get_/api/v1/users/{user_id}" → "get_api_v1_users_user_id".
std::string derived_operation_id(const std::string& method, const std::string& path) {
  std::string id = method;
  bool underscore = true;
  for (const char c : path) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (word) {
      if (underscore) id += '_';
      id += c;
      underscore = false;
    } else {
      underscore = true;
    }
  }
  return id;
}

std::string param_schema(http::ParamType type) {
  switch (type) {
    case http::ParamType::integer:
      return R"({"type":"integer","minimum":0})";
    case http::ParamType::uuid:
      return R"({"type":"string","format":"uuid"})";
    case http::ParamType::string:
      break;
  }
  return R"({"type":"string","minLength":1})";
}

void write_ref(json::Writer& w, std::string_view schema) {
  std::string ref(kSchemaRefPrefix);
  ref += schema;
  w.begin_object().field("$ref", ref).end_object();
}

void write_headers(json::Writer& w, unsigned status, const std::vector<Header>& declared) {
  std::vector<std::pair<std::string, std::string>> headers;  // name, schema
  std::vector<std::string> descriptions;
  for (const Header& h : declared) {
    headers.emplace_back(h.name, R"({"type":"string"})");
    descriptions.push_back(h.description);
  }
  if (status == 401) {
    headers.emplace_back("WWW-Authenticate", R"({"type":"string"})");
    descriptions.emplace_back(
        R"(`Bearer`, plus `error="invalid_token"` when a bad bearer token was sent)");
  }
  if (status == 429 || status == 503) {
    headers.emplace_back("Retry-After", R"({"type":"integer","minimum":0})");
    descriptions.emplace_back("Seconds to wait before retrying");
  }
  if (headers.empty()) return;
  w.key("headers").begin_object();
  for (std::size_t i = 0; i < headers.size(); ++i) {
    w.key(headers[i].first).begin_object();
    if (!descriptions[i].empty()) w.field("description", descriptions[i]);
    w.key("schema").raw(headers[i].second);
    w.end_object();
  }
  w.end_object();
}

struct Context {
  const Options& options;
  const std::set<std::string>& known_schemas;
  std::set<std::string>& operation_ids;
};

void require_schema(const Context& ctx, const std::string& name, const std::string& where) {
  if (ctx.known_schemas.count(name) == 0) {
    throw std::logic_error(where + " refers to unknown schema '" + name + "'");
  }
}

void write_parameters(json::Writer& w, const http::Route& route) {
  const Operation& op = route.info.openapi;
  for (const Parameter& p : op.parameters) {
    if (p.in != "query" && p.in != "path") {
      throw std::logic_error("parameter '" + p.name + "' of " + route.path +
                             " must be in query or path");
    }
    if (p.in == "path" && std::none_of(route.segments.begin(), route.segments.end(),
                                       [&p](const http::Route::Segment& s) {
                                         return s.is_param && s.text == p.name;
                                       })) {
      throw std::logic_error(route.path + " has no path parameter '" + p.name + "'");
    }
  }
  const bool any = !op.parameters.empty() ||
                   std::any_of(route.segments.begin(), route.segments.end(),
                               [](const http::Route::Segment& s) { return s.is_param; });
  if (!any) return;
  w.key("parameters").begin_array();
  for (const auto& seg : route.segments) {
    if (!seg.is_param) continue;
    const auto declared =
        std::find_if(op.parameters.begin(), op.parameters.end(),
                     [&seg](const Parameter& p) { return p.in == "path" && p.name == seg.text; });
    w.begin_object();
    w.field("name", seg.text).field("in", "path").field("required", true);
    if (declared != op.parameters.end() && !declared->description.empty()) {
      w.field("description", declared->description);
    }
    const bool own_schema = declared != op.parameters.end() && !declared->schema.empty();
    w.key("schema").raw(own_schema ? compact(declared->schema, "schema of " + seg.text)
                                   : param_schema(seg.type));
    w.end_object();
  }
  for (const Parameter& p : op.parameters) {
    if (p.in != "query") continue;
    w.begin_object();
    w.field("name", p.name).field("in", "query").field("required", p.required);
    if (!p.description.empty()) w.field("description", p.description);
    w.key("schema").raw(p.schema.empty() ? std::string(R"({"type":"string"})")
                                         : compact(p.schema, "schema of " + p.name));
    w.end_object();
  }
  w.end_array();
}

void write_responses(json::Writer& w, const http::Route& route, const Context& ctx) {
  const Operation& op = route.info.openapi;
  // status → the writer of its response object, ordered by status.
  std::map<unsigned, std::function<void()>> responses;
  for (const Response& r : op.responses) {
    if (r.status < 100 || r.status > 599) {
      throw std::logic_error(route.path + " documents status " + std::to_string(r.status));
    }
    if (!r.schema.empty()) require_schema(ctx, r.schema, route.path);
    const bool added = responses
                           .emplace(r.status,
                                    [&w, &r] {
                                      w.begin_object();
                                      w.field("description", r.description.empty()
                                                                 ? std::string_view("Success")
                                                                 : std::string_view(r.description));
                                      write_headers(w, r.status, r.headers);
                                      if (!r.schema.empty()) {
                                        w.key("content").begin_object().key(kJson).begin_object();
                                        w.key("schema");
                                        write_ref(w, r.schema);
                                        w.end_object().end_object();
                                      }
                                      w.end_object();
                                    })
                           .second;
    if (!added) throw std::logic_error(route.path + " documents a status twice");
  }
  if (responses.empty()) throw std::logic_error(route.path + " documents no success response");
  const auto errors = effective_errors(route.info, ctx.options);
  for (const auto& [status, description] : errors) {
    const bool added = responses
                           .emplace(status,
                                    [&w, status = status, &description = description] {
                                      w.begin_object();
                                      w.field("description", description);
                                      write_headers(w, status, {});
                                      w.key("content").begin_object().key(kJson).begin_object();
                                      w.key("schema");
                                      write_ref(w, kErrorSchema);
                                      w.end_object().end_object();
                                      w.end_object();
                                    })
                           .second;
    if (!added) {
      throw std::logic_error(route.path + " documents " + std::to_string(status) +
                             " as both a response and an error");
    }
  }
  w.key("responses").begin_object();
  for (const auto& [status, write] : responses) {
    w.key(std::to_string(status));
    write();
  }
  w.end_object();
}

void write_operation(json::Writer& w, const http::Route& route, const std::string& method,
                     const std::string& path, const Context& ctx) {
  const http::RouteInfo& info = route.info;
  const Operation& op = info.openapi;
  w.key(method).begin_object();
  if (!info.tags.empty()) {
    w.key("tags").begin_array();
    for (const auto& t : info.tags) w.value(t);
    w.end_array();
  }
  if (!info.summary.empty()) w.field("summary", info.summary);
  if (!op.description.empty()) w.field("description", op.description);
  const std::string id =
      op.operation_id.empty() ? derived_operation_id(method, path) : op.operation_id;
  if (!ctx.operation_ids.insert(id).second) {
    throw std::logic_error("duplicate operationId " + id);
  }
  w.field("operationId", id);
  write_parameters(w, route);
  if (!op.request_body.empty()) {
    w.key("requestBody").begin_object().field("required", true);
    w.key("content").begin_object();
    for (const Content& c : op.request_body) {
      require_schema(ctx, c.schema, route.path);
      w.key(c.media_type).begin_object().key("schema");
      write_ref(w, c.schema);
      w.end_object();
    }
    w.end_object().end_object();
  }
  write_responses(w, route, ctx);
  if (op.bearer) {
    if (ctx.options.token_url.empty()) {
      throw std::logic_error(route.path + " needs a bearer token but no token URL is set");
    }
    w.key("security").begin_array().begin_object();
    w.key(ctx.options.security_scheme).begin_array().end_array();
    w.end_object().end_array();
  }
  w.end_object();
}

}  // namespace

std::string openapi_path(const http::Route& route) {
  std::string path;
  for (const auto& seg : route.segments) {
    path += '/';
    if (seg.is_param) {
      path += '{';
      path += seg.text;
      path += '}';
    } else {
      path += seg.text;
    }
  }
  if (path.empty() || (route.path.size() > 1 && route.path.back() == '/')) path += '/';
  return path;
}

std::vector<unsigned> documented_statuses(const http::RouteInfo& info, const Options& options) {
  std::set<unsigned> statuses;
  for (const Response& r : info.openapi.responses) statuses.insert(r.status);
  for (const auto& [status, description] : effective_errors(info, options)) {
    statuses.insert(status);
  }
  return {statuses.begin(), statuses.end()};
}

Builder::Builder(Options options) : options_(std::move(options)) {}

Builder& Builder::schema(std::string name, std::string json_schema) {
  json_schema = compact(json_schema, "schema " + name);
  const bool taken = name == kErrorSchema || name == kErrorDetailSchema ||
                     std::any_of(components_.begin(), components_.end(),
                                 [&name](const Component& c) { return c.name == name; });
  if (taken) throw std::invalid_argument("schema " + name + " registered twice");
  components_.push_back(Component{std::move(name), std::move(json_schema)});
  return *this;
}

std::string Builder::build(const http::Router& router) const {
  std::set<std::string> known{std::string(kErrorSchema), std::string(kErrorDetailSchema)};
  for (const Component& c : components_) known.insert(c.name);
  std::set<std::string> refs;
  for (const Component& c : components_) collect_refs(parse_object(c.json, c.name), refs);
  for (const std::string& ref : refs) {
    if (known.count(ref) == 0) throw std::logic_error("$ref to unknown schema " + ref);
  }

  // Path items in registration order; OpenAPI forbids two templates that differ only in
  // parameter names ("/a/{x}" and "/a/{y}"), which the router would accept.
  std::vector<std::pair<std::string, std::vector<const http::Route*>>> paths;
  std::map<std::string, std::string> shapes;  // "/a/{}" → "/a/{x}"
  for (const http::Route& route : router.routes()) {
    if (!route.info.include_in_schema) continue;
    const std::string path = openapi_path(route);
    std::string shape;
    for (const auto& seg : route.segments) shape += seg.is_param ? "/{}" : "/" + seg.text;
    if (path.size() > 1 && path.back() == '/') shape += '/';
    const auto [it, fresh] = shapes.emplace(shape, path);
    if (!fresh && it->second != path) {
      throw std::logic_error("paths " + it->second + " and " + path + " differ only in names");
    }
    auto item = std::find_if(paths.begin(), paths.end(),
                             [&path](const auto& entry) { return entry.first == path; });
    if (item == paths.end()) {
      paths.emplace_back(path, std::vector<const http::Route*>{});
      item = std::prev(paths.end());
    }
    item->second.push_back(&route);
  }

  std::set<std::string> operation_ids;
  const Context ctx{options_, known, operation_ids};
  json::Writer w(16 * 1024);
  w.begin_object();
  w.field("openapi", "3.1.0");
  w.key("info").begin_object();
  w.field("title", options_.title).field("version", options_.version);
  if (!options_.description.empty()) w.field("description", options_.description);
  w.end_object();

  std::vector<std::string> tags;
  for (const Tag& t : options_.tags) tags.push_back(t.name);
  for (const http::Route& route : router.routes()) {
    if (!route.info.include_in_schema) continue;
    for (const auto& t : route.info.tags) {
      if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
    }
  }
  if (!tags.empty()) {
    w.key("tags").begin_array();
    for (const std::string& name : tags) {
      w.begin_object().field("name", name);
      const auto t = std::find_if(options_.tags.begin(), options_.tags.end(),
                                  [&name](const Tag& tag) { return tag.name == name; });
      if (t != options_.tags.end() && !t->description.empty()) {
        w.field("description", t->description);
      }
      w.end_object();
    }
    w.end_array();
  }

  w.key("paths").begin_object();
  for (const auto& [path, routes] : paths) {
    w.key(path).begin_object();
    for (const http::Route* route : routes) {
      write_operation(w, *route, method_key(route->method), path, ctx);
    }
    w.end_object();
  }
  w.end_object();

  w.key("components").begin_object();
  w.key("schemas").begin_object();
  w.key(kErrorSchema).raw(compact(kErrorResponseJson, std::string(kErrorSchema)));
  w.key(kErrorDetailSchema).raw(compact(kErrorDetailJson, std::string(kErrorDetailSchema)));
  for (const Component& c : components_) w.key(c.name).raw(c.json);
  w.end_object();
  if (!options_.token_url.empty()) {
    w.key("securitySchemes").begin_object();
    w.key(options_.security_scheme).begin_object();
    w.field("type", "oauth2");
    w.field("description",
            "Bearer token from the OAuth2 password grant at " + options_.token_url +
                (options_.refresh_url.empty()
                     ? std::string()
                     : ", renewed with the refresh_token grant at " + options_.refresh_url));
    w.key("flows").begin_object().key("password").begin_object();
    w.field("tokenUrl", options_.token_url);
    if (!options_.refresh_url.empty()) w.field("refreshUrl", options_.refresh_url);
    w.key("scopes").begin_object().end_object();
    w.end_object().end_object();
    w.end_object();
    w.end_object();
  }
  w.end_object();
  w.end_object();
  return std::move(w).str();
}

}  // namespace kit::openapi
