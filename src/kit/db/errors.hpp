#pragma once
// Typed database errors shared by the PostgreSQL and SQLite drivers, so repositories and the
// error envelope never see driver-specific failures.
#include <stdexcept>
#include <string>

#include "kit/errors/app_error.hpp"

namespace kit::db {

// The database cannot be reached, a connection was lost, or no pooled connection became free
// within the acquisition timeout. Rendered as 503 SERVICE_UNAVAILABLE with Retry-After.
struct UnavailableError : kit::errors::ServiceUnavailable {
  explicit UnavailableError(std::string internal_reason = {})
      : kit::errors::ServiceUnavailable("Database unavailable"),
        internal_reason_(std::move(internal_reason)) {}
  // For logs only (never rendered to clients; must not contain credentials).
  const std::string& internal_reason() const noexcept { return internal_reason_; }

 private:
  std::string internal_reason_;
};

// A unique constraint or index rejected a write (SQLSTATE 23505, SQLITE_CONSTRAINT_UNIQUE).
struct UniqueViolation : std::runtime_error {
  explicit UniqueViolation(std::string constraint)
      : std::runtime_error("unique violation: " + constraint), constraint_(std::move(constraint)) {}
  const std::string& constraint() const noexcept { return constraint_; }

 private:
  std::string constraint_;
};

// Any other failure reported by the database. Becomes a 500 whose body leaks nothing.
struct QueryError : std::runtime_error {
  QueryError(std::string sqlstate, std::string message)
      : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  std::string sqlstate_;
};

}  // namespace kit::db
