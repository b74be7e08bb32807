#!/usr/bin/env bash
# What metrics cost (issue 6 acceptance: at most 5%): wrk on GET /api/v1/users/me with a bearer
# token against two instances started side by side — METRICS_ENABLED=true and =false, each with
# its own SQLite file, rate limiting off, WORKERS=2 — alternating on/off ROUNDS times in the same
# run (ABBA order). Prints every run, the median req/s of each and the cost in percent. The
# machine's load average is printed too: on a shared machine compare runs at similar load only.
# Usage: bench/metrics-cost.sh [duration=10s] [connections=64]
#   env: ROUNDS (default 2), LOG_LEVEL (default info, as deployed), USER_SERVICE_BIN
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
duration="${1:-10s}"
conns="${2:-64}"
rounds="${ROUNDS:-2}"
log_level="${LOG_LEVEL:-info}"
bin="${USER_SERVICE_BIN:-build/user-service}"
work="$(mktemp -d /tmp/user-service-metrics-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME METRICS_ENABLED → sets $port once /health/live answers (any LOG_LEVEL). Not called
# in a $(…) subshell: the PID must reach `pids` here for the cleanup.
start() {
  local name="$1" enabled="$2"
  port="$(free_port)"
  env -i PATH=/usr/bin:/bin ENV_FILE=/nonexistent HOST=127.0.0.1 PORT="$port" WORKERS=2 \
    DATABASE_URL="sqlite:///$work/$name.db" RATE_LIMIT_ENABLED=false METRICS_ENABLED="$enabled" \
    LOG_LEVEL="$log_level" PASSWORD_HASH_MEMORY_KIB=8 PASSWORD_HASH_ITERATIONS=1 \
    JWT_SECRET=bench-secret-bench-secret-bench-secret-0000 \
    "$bin" serve > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/health/live" && return
    sleep 0.05
  done
  echo "service $name did not start" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# token PORT → registers a user and prints an access token
token() {
  local base="http://127.0.0.1:$1"
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","name":"Bench","password":"bench-password-1"}' \
    "$base/api/v1/users/"
  curl -fsS -d 'username=bench@example.com&password=bench-password-1' "$base/api/v1/auth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

start on true
on_port="$port"
start off false
off_port="$port"
on_token="$(token "$on_port")"
off_token="$(token "$off_port")"
# Sanity: metrics really are on in one and off in the other.
curl -fsS -o /dev/null "http://127.0.0.1:$on_port/metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$off_port/metrics")" = 404 ]

run_wrk() {  # PORT TOKEN DURATION → req/s
  wrk -t1 -c"$conns" -d"$3" -H "Authorization: Bearer $2" \
    "http://127.0.0.1:$1/api/v1/users/me" > "$work/wrk.out"
  grep -q 'Non-2xx' "$work/wrk.out" && { cat "$work/wrk.out" >&2; echo "non-2xx answers" >&2; exit 1; }
  awk '/Requests\/sec/ {print $2}' "$work/wrk.out"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run_wrk "$on_port" "$on_token" 2s > /dev/null  # warm-up
run_wrk "$off_port" "$off_token" 2s > /dev/null
on_runs=()
off_runs=()
for round in $(seq "$rounds"); do
  # ABBA order (on/off, then off/on, …) so a load change during the run hits both alike.
  if [ $((round % 2)) = 1 ]; then
    on_runs+=("$(run_wrk "$on_port" "$on_token" "$duration")")
    off_runs+=("$(run_wrk "$off_port" "$off_token" "$duration")")
  else
    off_runs+=("$(run_wrk "$off_port" "$off_token" "$duration")")
    on_runs+=("$(run_wrk "$on_port" "$on_token" "$duration")")
  fi
  echo "round $round: metrics on ${on_runs[-1]} req/s, off ${off_runs[-1]} req/s" \
    "(load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${on_runs[*]}" "${off_runs[*]}" "$duration" "$conns" <<'PY'
import statistics, sys
on = [float(x) for x in sys.argv[1].split()]
off = [float(x) for x in sys.argv[2].split()]
m_on, m_off = statistics.median(on), statistics.median(off)
print(f"GET /api/v1/users/me, wrk -t1 -c{sys.argv[4]} -d{sys.argv[3]}, median of {len(on)}: "
      f"metrics on {m_on:.0f} req/s, off {m_off:.0f} req/s, cost {(m_off - m_on) / m_off * 100:.1f}%")
PY
