#!/usr/bin/env bash
# What shared rate limiting costs (acceptance: at most 15%): GET /api/v1/users/me with the
# Redis limiter on (one GCRA script call per request to a throwaway Redis on 127.0.0.1) against
# rate limiting off, same run. The limit is set far above what wrk can send, so every request
# pays the full decision and none is refused.
# Usage: bench/ratelimit-cost.sh [duration=10s] [connections=64]   (env as bench/ab-me.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export REDIS_TEST_STATE="$(mktemp -d /tmp/user-service-bench-redis.XXXXXX)"
trap 'bash scripts/redis-test-server.sh stop >/dev/null 2>&1 || true; rm -rf "$REDIS_TEST_STATE"' EXIT
bash scripts/redis-test-server.sh start >/dev/null
redis_url="$(bash scripts/redis-test-server.sh url)"
bash bench/ab-me.sh "rate limiting (Redis)" \
  "RATE_LIMIT_ENABLED=true RATE_LIMIT_PER_MINUTE=1000000 REDIS_URL=$redis_url" \
  "RATE_LIMIT_ENABLED=false" "${1:-10s}" "${2:-64}"
