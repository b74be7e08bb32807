#pragma once
// The schema types as JSON Schema (OpenAPI 3.1 dialect) for the OpenAPI document: the same
// FieldSpec tables validation enforces, so the docs state exactly the checks that run.
#include <string>
#include <vector>

#include "kit/http/route_doc.hpp"
#include "service/schemas/field.hpp"

namespace user_service::schemas {

// One field's value: type, format, bounds, const/enum, read/write-only, description, example.
std::string json_schema(const FieldSpec& field);
// An object with the spec's fields as properties and its required ones listed.
std::string json_schema(const SchemaSpec& spec);
// The spec's fields as query parameters (the list route's limit and cursor).
std::vector<kit::http::doc::Parameter> query_parameters(const SchemaSpec& spec);

}  // namespace user_service::schemas
