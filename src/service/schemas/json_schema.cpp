#include "service/schemas/json_schema.hpp"

#include <algorithm>

#include "kit/json/writer.hpp"
#include "kit/util/enum_names.hpp"

namespace user_service::schemas {
namespace {

// The OpenAPI `format` of a string field; none is empty.
constexpr kit::util::EnumNames<FieldFormat, 5> kFormatNames{
    {"", "email", "password", "uuid", "date-time"}};

std::string component_ref(std::string_view name) {
  std::string ref = "#/components/schemas/";
  ref += name;
  return ref;
}

// `with_description`: false for query parameters, whose description sits on the parameter.
void write_field(kit::json::Writer& w, const FieldSpec& f, bool with_description) {
  w.begin_object();
  switch (f.type) {
    case FieldType::string:
      w.field("type", "string");
      break;
    case FieldType::integer:
      w.field("type", "integer");
      break;
    case FieldType::number:
      w.field("type", "number");
      break;
    case FieldType::boolean:
      w.field("type", "boolean");
      break;
    case FieldType::string_or_null:
      w.key("type").begin_array().value("string").value("null").end_array();
      break;
    case FieldType::array_of_strings:
      w.field("type", "array");
      w.key("items").begin_object().field("type", "string").end_object();
      break;
    case FieldType::array_of_objects:
      w.field("type", "array");
      w.key("items").begin_object().field("$ref", component_ref(f.items_schema)).end_object();
      break;
    case FieldType::object_map:
      w.field("type", "object");
      w.key("additionalProperties")
          .begin_object()
          .field("$ref", component_ref(f.items_schema))
          .end_object();
      break;
  }
  if (const auto format = kFormatNames(f.format); !format.empty()) w.field("format", format);
  if (f.min_length) w.field("minLength", static_cast<std::uint64_t>(*f.min_length));
  if (f.max_length) w.field("maxLength", static_cast<std::uint64_t>(*f.max_length));
  if (f.minimum) w.field("minimum", *f.minimum);
  if (f.maximum) w.field("maximum", *f.maximum);
  if (f.default_integer) w.field("default", *f.default_integer);
  if (!f.const_value.empty()) w.field("const", f.const_value);
  if (!f.enum_values.empty()) {
    w.key("enum").begin_array();
    for (const std::string_view v : f.enum_values) w.value(v);
    w.end_array();
  }
  if (f.read_only) w.field("readOnly", true);
  if (f.write_only) w.field("writeOnly", true);
  if (with_description && !f.description.empty()) w.field("description", f.description);
  if (!f.example.empty()) w.key("examples").begin_array().value(f.example).end_array();
  w.end_object();
}

}  // namespace

std::string json_schema(const FieldSpec& field) {
  kit::json::Writer w(256);
  write_field(w, field, true);
  return std::move(w).str();
}

std::string json_schema(const SchemaSpec& spec) {
  kit::json::Writer w(1024);
  w.begin_object();
  w.field("type", "object");
  if (!spec.description.empty()) w.field("description", spec.description);
  w.key("properties").begin_object();
  for (const FieldSpec& f : spec.fields) {
    w.key(f.name);
    write_field(w, f, true);
  }
  w.end_object();
  const bool any_required = std::any_of(spec.fields.begin(), spec.fields.end(),
                                        [](const FieldSpec& f) { return f.required; });
  if (any_required) {
    w.key("required").begin_array();
    for (const FieldSpec& f : spec.fields) {
      if (f.required) w.value(f.name);
    }
    w.end_array();
  }
  w.end_object();
  return std::move(w).str();
}

std::vector<kit::http::doc::Parameter> query_parameters(const SchemaSpec& spec) {
  std::vector<kit::http::doc::Parameter> params;
  for (const FieldSpec& f : spec.fields) {
    kit::json::Writer w(128);
    write_field(w, f, false);
    params.push_back(kit::http::doc::Parameter{.name = std::string(f.name),
                                               .in = "query",
                                               .required = f.required,
                                               .description = std::string(f.description),
                                               .schema = std::move(w).str()});
  }
  return params;
}

}  // namespace user_service::schemas
