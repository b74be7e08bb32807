#!/usr/bin/env bash
# The README's test command: installs what is missing, builds (warnings are errors), starts the
# throwaway test servers on 127.0.0.1, runs every test with ctest, and stops the servers.
# Environment: BUILD_DIR (build), SANITIZE (e.g. address,undefined), BUILD_TYPE (RelWithDebInfo),
# BUILD_TARGETS (all). Arguments go to ctest (scripts/tsan.sh selects tests with -R).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh build test
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DUSER_SERVICE_WERROR=ON -DUSER_SERVICE_TESTS=ON -DUSER_SERVICE_SANITIZE="${SANITIZE:-}" >/dev/null
read -ra targets <<<"${BUILD_TARGETS:-all}"
cmake --build "$build" --target "${targets[@]}"

# npm packages of the node tests (tests/browser: OpenAPI validator, Chromium via playwright-core)
# from the committed lockfile; reinstalled only when the lockfile changed. Node.js and npm come
# with the machine (not from Debian's archive, whose npm would replace that Node.js).
command -v npm >/dev/null || { echo "test.sh: npm is required for tests/browser" >&2; exit 1; }
lock_sum="$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)"
if [ "$(cat tests/browser/node_modules/.lockfile-sha256 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --prefix tests/browser --no-audit --no-fund
  echo "$lock_sum" >tests/browser/node_modules/.lockfile-sha256
fi

state="$(mktemp -d /tmp/user-service-test.XXXXXX)"
cleanup() {
  PG_TEST_STATE="$state/pg" bash scripts/pg-test-server.sh stop >/dev/null 2>&1 || true
  REDIS_TEST_STATE="$state/redis" bash scripts/redis-test-server.sh stop >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

# Throwaway servers on 127.0.0.1 for the integration and end-to-end tests; the PostgreSQL
# and Redis tests fail (never skip) without them.
PG_TEST_STATE="$state/pg" bash scripts/pg-test-server.sh start >/dev/null
USER_SERVICE_TEST_PG_URL="$(PG_TEST_STATE="$state/pg" bash scripts/pg-test-server.sh url)"
export USER_SERVICE_TEST_PG_URL
REDIS_TEST_STATE="$state/redis" bash scripts/redis-test-server.sh start >/dev/null
USER_SERVICE_TEST_REDIS_URL="$(REDIS_TEST_STATE="$state/redis" bash scripts/redis-test-server.sh url)"
export USER_SERVICE_TEST_REDIS_URL

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 300 "$@"
