#!/usr/bin/env bash
# The README's test command: installs what is missing, builds (warnings are errors), starts the
# throwaway test servers on 127.0.0.1, runs every test with ctest, and stops the servers.
# Environment: BUILD_DIR (build), SANITIZE (e.g. address,undefined), BUILD_TYPE (RelWithDebInfo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh build test
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DUSER_SERVICE_WERROR=ON -DUSER_SERVICE_TESTS=ON -DUSER_SERVICE_SANITIZE="${SANITIZE:-}" >/dev/null
cmake --build "$build"

state="$(mktemp -d /tmp/user-service-test.XXXXXX)"
cleanup() {
  for server in scripts/*-test-server.sh; do
    STATE_DIR="$state" bash "$server" stop >/dev/null 2>&1 || true
  done
  rm -rf "$state"
}
trap cleanup EXIT

if [ -f scripts/pg-test-server.sh ]; then
  STATE_DIR="$state" bash scripts/pg-test-server.sh start
  USER_SERVICE_TEST_PG_URL="$(STATE_DIR="$state" bash scripts/pg-test-server.sh url)"
  export USER_SERVICE_TEST_PG_URL
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 300
