#!/usr/bin/env bash
# ThreadSanitizer: builds the tests with GCC's -fsanitize=thread in their own build
# directory and runs the tests that exercise concurrency: the CPU worker pool and the password
# hasher on it, the in-process rate limiter, health checks run concurrently, the random id
# generators, the SQLite executor and migrators, the PostgreSQL pool and driver, the Redis
# client and limiter, the repositories' concurrent-create races, the outbox's concurrent
# claims, and end to end the real binary (2 I/O threads) under concurrent registrations, rate
# limiting, outages, the graceful drain and its events delivered to a webhook receiver. Any data race, in the test process or in a service the e2e tests start,
# fails the run: reports are written to files (TSAN_OPTIONS log_path) and checked at the end.
# Usage: scripts/tsan.sh [extra ctest arguments]
# The tests are those labelled `tsan` (tests/CMakeLists.txt, TSAN_FILTER_<executable>); extra ctest
# arguments narrow them further (e.g. -R PgPool). Environment: TSAN_BUILD_DIR (build-tsan).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="${TSAN_BUILD_DIR:-build-tsan}"

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
  BUILD_TARGETS="kit_unit_tests kit_integration_tests service_integration_tests e2e_tests" \
  setarch "$(uname -m)" -R bash scripts/test.sh --no-tests=error -L tsan "$@" || status=$?

if compgen -G "$reports/tsan*" >/dev/null; then
  echo "tsan: ThreadSanitizer reports:"
  cat "$reports"/tsan*
  status=1
fi
[ "$status" -ne 0 ] || echo "tsan: no data races in the selected tests"
exit "$status"
