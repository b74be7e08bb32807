#!/usr/bin/env bash
# What metrics cost (acceptance: at most 5%): GET /api/v1/users/me with
# METRICS_ENABLED=true against =false, rate limiting off in both, same run (bench/ab-me.sh).
# Usage: bench/metrics-cost.sh [duration=10s] [connections=64]   (env as bench/ab-me.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec bash bench/ab-me.sh "metrics" "METRICS_ENABLED=true RATE_LIMIT_ENABLED=false" \
  "METRICS_ENABLED=false RATE_LIMIT_ENABLED=false" "${1:-10s}" "${2:-64}"
