// Fuzzes the urlencoded form and query-string parser (kit/http/body) as the token route and the
// user list use it: the form body of POST /api/v1/auth/token (duplicates refused) into
// TokenRequest, and the query of GET /api/v1/users into ListUsersQuery (service/schemas).
// Properties: the field count is bounded, every decoded name and value is valid UTF-8, a form
// that refuses duplicates has none, the body and query readers agree with the parser, and
// percent-encoding what was decoded parses back to the very same fields.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "kit/errors/app_error.hpp"
#include "kit/http/body.hpp"
#include "kit/json/writer.hpp"
#include "service/schemas/auth.hpp"
#include "service/schemas/users.hpp"

namespace {

using kit::http::FormFields;
using kit::http::FormLimits;

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '.' || b == '_' || b == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

void check_fields(const FormFields& fields, const FormLimits& limits) {
  FUZZ_CHECK(fields.size() <= limits.max_fields);
  std::set<std::string_view> names;
  for (const auto& [name, value] : fields.items()) {
    FUZZ_CHECK(kit::json::is_valid_utf8(name) && kit::json::is_valid_utf8(value));
    names.insert(name);
  }
  FUZZ_CHECK(!limits.reject_duplicates || names.size() == fields.size());

  std::string encoded;
  for (const auto& [name, value] : fields.items()) {
    if (!encoded.empty()) encoded += '&';
    encoded += percent_encode(name) + "=" + percent_encode(value);
  }
  const auto again = kit::http::parse_urlencoded(encoded, limits);
  FUZZ_CHECK(again && again->items() == fields.items());
}

kit::http::Request request(std::string target, std::string_view content_type,
                           std::string_view body) {
  kit::http::Request req{kit::http::Verb::post, target, 11};
  req.set(kit::http::Field::content_type, content_type);
  req.body() = std::string(body);
  req.prepare_payload();
  return req;
}

void check_schema_refusal(const kit::errors::AppError& e) {
  FUZZ_CHECK(e.status() == 422 && !e.details().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const FormLimits oauth{.reject_duplicates = true};
  const FormLimits query{};

  const auto form = kit::http::parse_urlencoded(input, oauth);
  if (form) check_fields(*form, oauth);
  const auto fields = kit::http::parse_urlencoded(input, query);
  if (fields) check_fields(*fields, query);
  FUZZ_CHECK(!form || fields);  // refusing duplicates only ever refuses more

  // The token route's body reader, then its schema.
  const auto body_req =
      request("/api/v1/auth/token", "application/x-www-form-urlencoded; charset=utf-8", input);
  try {
    const auto read = kit::http::read_form_body(body_req, oauth);
    FUZZ_CHECK(form && read.items() == form->items());
    try {
      const auto token = user_service::schemas::TokenRequest::from_form(read);
      FUZZ_CHECK(!token.username.empty() && !token.password.empty());
    } catch (const kit::errors::AppError& e) {
      check_schema_refusal(e);
    }
  } catch (const kit::errors::BadRequest&) {
    FUZZ_CHECK(!form);
  }

  // The user list's query string, then its schema.
  const auto query_req = request("/api/v1/users?" + std::string(input), "", "");
  try {
    const auto read = kit::http::read_query(query_req, query);
    FUZZ_CHECK(fields && read.items() == fields->items());
    try {
      const auto list = user_service::schemas::ListUsersQuery::from_query(read);
      FUZZ_CHECK(list.limit >= 1 && list.limit <= 100);
    } catch (const kit::errors::AppError& e) {
      check_schema_refusal(e);
    }
  } catch (const kit::errors::BadRequest&) {
    FUZZ_CHECK(!fields);
  }
  return 0;
}
