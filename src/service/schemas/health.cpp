#include "service/schemas/health.hpp"

namespace user_service::schemas {

const SchemaSpec& LivenessResponse::schema() {
  static const SchemaSpec spec{"LivenessResponse", "The process serves HTTP", kFields};
  return spec;
}

const SchemaSpec& HealthCheckResult::schema() {
  static const SchemaSpec spec{"HealthCheckResult", "The outcome of one dependency check", kFields};
  return spec;
}

const SchemaSpec& ReadinessResponse::schema() {
  static const SchemaSpec spec{"ReadinessResponse", "Whether the service can take traffic",
                               kFields};
  return spec;
}

}  // namespace user_service::schemas
