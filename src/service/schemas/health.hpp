#pragma once
// Bodies of GET /health/live and GET /health/ready (docs/http-api.md), for the OpenAPI
// document: the probes write these few fields themselves (api/routes/health.cpp).
#include <array>
#include <string_view>

#include "service/schemas/field.hpp"

namespace user_service::schemas {

namespace values {
inline constexpr std::array<std::string_view, 2> kCheckStatuses{"ok", "error"};
inline constexpr std::array<std::string_view, 3> kReadiness{"ready", "degraded", "shutting_down"};
}  // namespace values

struct LivenessResponse {
  static constexpr std::array<FieldSpec, 1> kFields{FieldSpec{.name = "status",
                                                              .const_value = "alive",
                                                              .read_only = true,
                                                              .description = "Always `alive`"}};
  static const SchemaSpec& schema();
};

// One dependency check of the readiness probe.
struct HealthCheckResult {
  static constexpr std::array<FieldSpec, 3> kFields{
      FieldSpec{.name = "status",
                .enum_values = values::kCheckStatuses,
                .read_only = true,
                .description = "`ok` or `error`"},
      FieldSpec{.name = "duration_ms",
                .type = FieldType::number,
                .required = false,
                .read_only = true,
                .description = "How long the check took (when ok)"},
      FieldSpec{.name = "message",
                .required = false,
                .read_only = true,
                .description = "What failed (when error); never credentials or addresses"}};
  static const SchemaSpec& schema();
};

struct ReadinessResponse {
  static constexpr std::array<FieldSpec, 2> kFields{
      FieldSpec{.name = "status",
                .enum_values = values::kReadiness,
                .read_only = true,
                .description = "`ready` when every check passed"},
      FieldSpec{.name = "checks",
                .type = FieldType::object_map,
                .required = false,
                .read_only = true,
                .description = "One entry per dependency (database, redis when configured); "
                               "absent while shutting down",
                .items_schema = "HealthCheckResult"}};
  static const SchemaSpec& schema();
};

}  // namespace user_service::schemas
