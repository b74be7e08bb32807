#pragma once
// Self-describing request and response fields. Each schema type lists its fields ONCE as
// FieldSpec values; validation (schemas/validation) enforces exactly what the spec says and
// the OpenAPI generator reads the same table, so the docs cannot drift from the checks.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace user_service::schemas {

// number, boolean, array_of_strings and object_map only describe responses (health checks,
// metadata); requests never read them.
enum class FieldType {
  string,
  integer,
  number,
  boolean,
  string_or_null,
  array_of_strings,
  array_of_objects,
  object_map
};

// Extra meaning of a string, also the OpenAPI `format`.
enum class FieldFormat { none, email, password, uuid, date_time };

struct FieldSpec {
  std::string_view name;
  FieldType type = FieldType::string;
  bool required = true;
  FieldFormat format = FieldFormat::none;
  // Strings: lengths in Unicode code points, after trimming when `trim`.
  std::optional<std::size_t> min_length = std::nullopt;
  std::optional<std::size_t> max_length = std::nullopt;
  // Integers.
  std::optional<std::int64_t> minimum = std::nullopt;
  std::optional<std::int64_t> maximum = std::nullopt;
  std::optional<std::int64_t> default_integer = std::nullopt;
  // The only accepted value, when set (OAuth2 `grant_type=password`).
  std::string_view const_value = {};
  // The values a field takes: documented for responses, enforced for requests.
  std::span<const std::string_view> enum_values = {};
  bool trim = false;        // leading/trailing Unicode white space removed first
  bool no_control = false;  // control characters (C0, DEL, C1) refused
  bool write_only = false;  // accepted in requests, never returned (passwords)
  bool read_only = false;   // returned, never read from requests (ids, timestamps)
  std::string_view description = {};
  std::string_view example = {};
  // array_of_objects: the element schema's name; object_map: the schema of every value.
  std::string_view items_schema = {};
};

// A named list of fields: one request or response body (or a query string).
struct SchemaSpec {
  std::string_view name;
  std::string_view description;
  std::span<const FieldSpec> fields;
};

}  // namespace user_service::schemas
