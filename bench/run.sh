#!/usr/bin/env bash
# The benchmark suite: `make bench` or `bash bench/run.sh`.
#
# Builds the service exactly like `make build`, starts a throwaway PostgreSQL and Redis with the
# test-server scripts, then bench/lib/runner.py starts the service (ENVIRONMENT=production, on
# PostgreSQL; on PostgreSQL + Redis for the `mixed` production scenario), seeds 1,000 users and
# runs each wrk scenario of bench/scenarios after a warm-up, beside its reference measured in the
# same run: nginx `return 200` for live; for the database reads `pgbench -S -M prepared` and the
# same read as `me`, 8 per pipeline (pgbench `\startpipeline`). Then memory (idle, and with
# 10,000 idle keep-alive connections) and start-up time. SCENARIOS=scale (not in the default run)
# grows the database to 1,000,000 users (PostgreSQL, then SQLite) and measures the reads again.
# Writes bench/results/<timestamp>.json, latest.json and latest.png, and prints the table.
#
# Environment: DURATION (s, 10), CONNECTIONS (64), AUTH_CONNECTIONS (16, login/register),
# WARMUP (s, 3), IDLE_CONNECTIONS (10000), STARTUP_RUNS (7), SCENARIOS (comma list: live, ready,
# get_user, me, get_missing, login, register, mixed, memory, startup; scale), QUICK=1 (a smoke run: 3 s
# each, 1,000 idle connections, 3 start-ups; results go to *-quick.*, never latest.*),
# BUILD_DIR (build), SCALE_USERS (1000000), WORKERS (the service's default, one I/O thread per
# core, unless set) / DATABASE_POOL_SIZE /
# DATABASE_POOL_MAX_OVERFLOW (passed to the service), BENCH_PG_STATE / BENCH_REDIS_STATE
# (test-server state dirs).
# Absolute numbers on a shared machine are noise; the ratios to the references are the result.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh build bench
build="${BUILD_DIR:-build}"
make -s build BUILD_DIR="$build"

work="$(mktemp -d /tmp/user-service-bench.XXXXXX)"
export PG_TEST_STATE="${BENCH_PG_STATE:-$work/pg}" REDIS_TEST_STATE="${BENCH_REDIS_STATE:-$work/redis}"
cleanup() {
  bash scripts/pg-test-server.sh stop >/dev/null 2>&1 || true
  bash scripts/redis-test-server.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# 10,000 idle connections need as many descriptors in the service and in the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

bash scripts/pg-test-server.sh start >/dev/null
bash scripts/redis-test-server.sh start >/dev/null
BENCH_PG_URL="$(bash scripts/pg-test-server.sh url)"
BENCH_REDIS_URL="$(bash scripts/redis-test-server.sh url)"
export BENCH_PG_URL BENCH_REDIS_URL BENCH_WORK="$work" BENCH_BIN="$PWD/$build/user-service"
python3 bench/lib/runner.py
