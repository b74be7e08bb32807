#include "service/schemas/account.hpp"

#include "kit/json/writer.hpp"
#include "service/schemas/validation.hpp"

namespace user_service::schemas {

const SchemaSpec& VerifyEmailRequest::schema() {
  static const SchemaSpec spec{"VerifyEmailRequest", "The token of a verification email", kFields};
  return spec;
}

VerifyEmailRequest VerifyEmailRequest::from_json(const rapidjson::Value& body) {
  if (!body.IsObject()) throw_body_not_object();
  Validator v;
  auto token = v.string(body, kFields[0]);
  v.throw_if_failed();
  return VerifyEmailRequest{std::move(*token)};
}

const SchemaSpec& PasswordResetRequest::schema() {
  static const SchemaSpec spec{"PasswordResetRequest", "Where to send a password reset link",
                               kFields};
  return spec;
}

PasswordResetRequest PasswordResetRequest::from_json(const rapidjson::Value& body) {
  if (!body.IsObject()) throw_body_not_object();
  Validator v;
  auto email = v.string(body, kFields[0]);
  v.throw_if_failed();
  return PasswordResetRequest{std::move(*email)};
}

const SchemaSpec& PasswordReset::schema() {
  static const SchemaSpec spec{"PasswordReset", "The token of a reset email and the new password",
                               kFields};
  return spec;
}

PasswordReset PasswordReset::from_json(const rapidjson::Value& body) {
  if (!body.IsObject()) throw_body_not_object();
  Validator v;
  auto token = v.string(body, kFields[0]);
  auto password = v.string(body, kFields[1]);
  v.throw_if_failed();
  return PasswordReset{std::move(*token), std::move(*password)};
}

const SchemaSpec& AcceptedResponse::schema() {
  static const SchemaSpec spec{"AcceptedResponse", "Accepted; an email may follow", kFields};
  return spec;
}

std::string AcceptedResponse::to_json(std::string_view message) {
  kit::json::Writer w(128);
  w.begin_object().field("message", message).end_object();
  return std::move(w).str();
}

}  // namespace user_service::schemas
