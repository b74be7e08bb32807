#!/usr/bin/env bash
# ThreadSanitizer: builds the tests with GCC's -fsanitize=thread in their own build
# directory and runs the tests that exercise concurrency: the CPU worker pool and the password
# hasher on it, the in-process rate limiter, health checks run concurrently, the random id
# generators, the SQLite executor and migrators, the PostgreSQL pool and driver, the Redis
# client and limiter, the repositories' concurrent-create races, and end to end the real
# binary (2 I/O threads) under concurrent registrations, rate limiting, outages and the
# graceful drain. Any data race, in the test process or in a service the e2e tests start,
# fails the run: reports are written to files (TSAN_OPTIONS log_path) and checked at the end.
# Usage: scripts/tsan.sh [extra ctest arguments]
# Environment: TSAN_BUILD_DIR (build-tsan), TSAN_TESTS (a ctest -R regex replacing the default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="${TSAN_BUILD_DIR:-build-tsan}"
default_tests='^(WorkerPool|PasswordHasherTest|MemoryLimiter|Guard|HealthRegistry|RandomIds)\.'
default_tests+='|^(SqliteDatabase|SqliteMigrations|PgPool|PgConnection|PgReadiness|PgMigrate)\.'
default_tests+='|^(RedisClient|RedisLimiter)\.|UserRepositoryContract\.Concurrent'
default_tests+='|PgUserRepositoryTest\.Concurrent'
default_tests+='|^(Lifecycle|Database|RateLimitRedis)\.|Users\.TwentyConcurrent'
tests="${TSAN_TESTS:-$default_tests}"

reports="$(mktemp -d /tmp/user-service-tsan.XXXXXX)"
trap 'rm -rf "$reports"' EXIT
# Inherited by the service processes the e2e tests start, so their races are reported too.
export TSAN_OPTIONS="log_path=$reports/tsan second_deadlock_stack=1 \
suppressions=$PWD/tests/tsan.supp ${TSAN_OPTIONS:-}"

# scripts/test.sh builds (warnings are errors) and starts the throwaway PostgreSQL and Redis.
# Debug (-O0): GCC 12 at -O2 reports false -Warray-bounds in instrumented string code, and
# an unoptimized build compiles in about half the time. setarch -R (no address randomization,
# inherited by everything started below): GCC 12's TSan runtime cannot map its shadow memory
# on kernels with more mmap randomization bits ("unexpected memory mapping").
status=0
BUILD_DIR="$build" SANITIZE=thread BUILD_TYPE=Debug \
  BUILD_TARGETS="unit_tests integration_tests e2e_tests" \
  setarch "$(uname -m)" -R bash scripts/test.sh --no-tests=error -R "$tests" "$@" || status=$?

if compgen -G "$reports/tsan*" >/dev/null; then
  echo "tsan: ThreadSanitizer reports:"
  cat "$reports"/tsan*
  status=1
fi
[ "$status" -ne 0 ] || echo "tsan: no data races in the selected tests"
exit "$status"
