#include "service/schemas/auth.hpp"

#include "kit/json/writer.hpp"
#include "service/repositories/timestamps.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::schemas {
namespace {

constexpr const FieldSpec& kGrantType = TokenRequest::kFields[0];
constexpr const FieldSpec& kUsername = TokenRequest::kFields[1];
constexpr const FieldSpec& kPassword = TokenRequest::kFields[2];
constexpr const FieldSpec& kRefreshToken = TokenRequest::kFields[3];

// The fields a grant needs: the table marks none required, since that depends on grant_type.
template <class Source>
std::optional<std::string> required(Validator& v, const Source& source, const FieldSpec& field) {
  FieldSpec spec = field;
  spec.required = true;
  return v.string(source, spec);
}

template <class Source>
TokenRequest read(const Source& source) {
  Validator v;
  TokenRequest request;
  const auto grant = v.string(source, kGrantType);
  if (grant && *grant == "refresh_token") {
    request.grant = TokenRequest::Grant::refresh_token;
    auto token = required(v, source, kRefreshToken);
    v.throw_if_failed();
    request.refresh_token = std::move(*token);
    return request;
  }
  auto username = required(v, source, kUsername);
  auto password = required(v, source, kPassword);
  v.throw_if_failed();
  request.username = std::move(*username);
  request.password = std::move(*password);
  return request;
}

}  // namespace

const SchemaSpec& TokenRequest::schema() {
  static const SchemaSpec spec{"TokenRequest",
                               "OAuth2 password grant (username, password) or refresh grant "
                               "(grant_type=refresh_token, refresh_token)",
                               kFields};
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
  static const SchemaSpec spec{"TokenResponse", "An access token and its refresh token", kFields};
  return spec;
}

std::string TokenResponse::to_json() const {
  kit::json::Writer w(access_token.size() + refresh_token.size() + 120);
  w.begin_object();
  w.field("access_token", access_token);
  w.field("token_type", "bearer");
  w.field("expires_in", expires_in);
  w.field("refresh_token", refresh_token);
  w.field("refresh_expires_in", refresh_expires_in);
  w.end_object();
  return std::move(w).str();
}

const SchemaSpec& LogoutQuery::schema() {
  static const SchemaSpec spec{"LogoutQuery", "Which sessions to end", kFields};
  return spec;
}

LogoutQuery LogoutQuery::from_query(const kit::http::FormFields& query) {
  Validator v;
  const auto scope = v.string(query, kFields[0]);
  v.throw_if_failed();
  return LogoutQuery{scope && *scope == "all"};
}

const SchemaSpec& SessionResponse::schema() {
  static const SchemaSpec spec{"SessionResponse", "A signed-in session", kFields};
  return spec;
}

const SchemaSpec& SessionListResponse::schema() {
  static const SchemaSpec spec{"SessionListResponse", "The caller's active sessions", kFields};
  return spec;
}

std::string SessionListResponse::to_json(const std::vector<domain::Session>& sessions,
                                         std::string_view current_session_id) {
  kit::json::Writer w(32 + sessions.size() * 320);
  w.begin_object();
  w.key("items").begin_array();
  for (const domain::Session& s : sessions) {
    w.begin_object();
    w.field("id", s.id);
    w.field("created_at", repositories::format_timestamp(s.created_at));
    w.field("last_used_at", repositories::format_timestamp(s.last_used_at));
    w.field("user_agent", s.user_agent);
    w.field("client_ip", s.client_ip);
    w.field("current", s.id == current_session_id);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return std::move(w).str();
}

}  // namespace user_service::schemas
