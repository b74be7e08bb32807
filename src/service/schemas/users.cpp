#include "service/schemas/users.hpp"

#include "service/repositories/timestamps.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::schemas {

const SchemaSpec& UserCreate::schema() {
  static const SchemaSpec spec{"UserCreate", "Registration of a new user", kFields};
  return spec;
}

UserCreate UserCreate::from_json(const rapidjson::Value& body) {
  if (!body.IsObject()) throw_body_not_object();
  Validator v;
  auto email = v.string(body, kFields[0]);
  auto name = v.string(body, kFields[1]);
  auto password = v.string(body, kFields[2]);
  v.throw_if_failed();
  return UserCreate{std::move(*email), std::move(*name), std::move(*password)};
}

const SchemaSpec& UserUpdate::schema() {
  static const SchemaSpec spec{
      "UserUpdate",
      "Changes to the current user; a new email or password requires current_password", kFields};
  return spec;
}

UserUpdate UserUpdate::from_json(const rapidjson::Value& body) {
  if (!body.IsObject()) throw_body_not_object();
  Validator v;
  UserUpdate u;
  u.name = v.string(body, kFields[0]);
  u.email = v.string(body, kFields[1]);
  u.password = v.string(body, kFields[2]);
  u.current_password = v.string(body, kFields[3]);
  v.throw_if_failed();
  return u;
}

const SchemaSpec& ListUsersQuery::schema() {
  static const SchemaSpec spec{"ListUsersQuery", "Keyset pagination of the user list", kFields};
  return spec;
}

ListUsersQuery ListUsersQuery::from_query(const kit::http::FormFields& query) {
  Validator v;
  const auto limit = v.integer(query, kFields[0]);
  auto cursor = v.string(query, kFields[1]);
  v.throw_if_failed();
  ListUsersQuery q;
  q.limit = static_cast<std::size_t>(*limit);
  q.cursor = std::move(cursor);
  return q;
}

const SchemaSpec& UserResponse::schema() {
  static const SchemaSpec spec{"UserResponse", "A user as clients see it", kFields};
  return spec;
}

UserResponse UserResponse::from(const domain::User& user) {
  return UserResponse{user.id, user.email, user.name, user.created_at, user.email_verified};
}

namespace {

// The one place that decides the UserResponse JSON; created_at is formatted without a string.
void write_user_response(kit::json::Writer& w, std::string_view id, std::string_view email,
                         std::string_view name, domain::Timestamp created_at, bool email_verified) {
  const repositories::TimestampText created = repositories::timestamp_text(created_at);
  w.begin_object();
  w.field("id", id);
  w.field("email", email);
  w.field("name", name);
  w.field("created_at", std::string_view(created.data(), created.size()));
  w.field("email_verified", email_verified);
  w.end_object();
}

}  // namespace

void UserResponse::write(kit::json::Writer& w) const {
  write_user_response(w, id, email, name, created_at, email_verified);
}

std::string UserResponse::to_json() const {
  kit::json::Writer w(256);
  write(w);
  return std::move(w).str();
}

std::string UserResponse::to_json(const domain::User& user) {
  kit::json::Writer w(256);
  write_user_response(w, user.id, user.email, user.name, user.created_at, user.email_verified);
  return std::move(w).str();
}

const SchemaSpec& UserListResponse::schema() {
  static const SchemaSpec spec{"UserListResponse", "One page of users", kFields};
  return spec;
}

std::string UserListResponse::to_json() const {
  kit::json::Writer w(128 + items.size() * 160);
  w.begin_object();
  w.key("items").begin_array();
  for (const auto& item : items) item.write(w);
  w.end_array();
  w.key("next_cursor");
  if (next_cursor) {
    w.value(*next_cursor);
  } else {
    w.null();
  }
  w.end_object();
  return std::move(w).str();
}

}  // namespace user_service::schemas
