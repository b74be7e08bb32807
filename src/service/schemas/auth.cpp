#include "service/schemas/auth.hpp"

#include "kit/json/writer.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::schemas {
namespace {

template <class Source>
TokenRequest read(const Source& source) {
  Validator v;
  auto username = v.string(source, TokenRequest::kFields[0]);
  auto password = v.string(source, TokenRequest::kFields[1]);
  v.string(source, TokenRequest::kFields[2]);
  v.throw_if_failed();
  return TokenRequest{std::move(*username), std::move(*password)};
}

}  // namespace

const SchemaSpec& TokenRequest::schema() {
  static const SchemaSpec spec{"TokenRequest", "OAuth2 password grant", kFields};
  return spec;
}

TokenRequest TokenRequest::from_form(const kit::http::FormFields& form) {
  return read(form);
}

TokenRequest TokenRequest::from_json(const rapidjson::Value& body) {
  if (!body.IsObject()) throw_body_not_object();
  return read(body);
}

const SchemaSpec& TokenResponse::schema() {
  static const SchemaSpec spec{"TokenResponse", "An access token", kFields};
  return spec;
}

std::string TokenResponse::to_json() const {
  kit::json::Writer w(access_token.size() + 80);
  w.begin_object();
  w.field("access_token", access_token);
  w.field("token_type", "bearer");
  w.field("expires_in", expires_in);
  w.end_object();
  return std::move(w).str();
}

}  // namespace user_service::schemas
