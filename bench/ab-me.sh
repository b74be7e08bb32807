#!/usr/bin/env bash
# What a feature costs on the authenticated hot path: wrk on GET /api/v1/users/me with a bearer
# token against two instances started side by side — one with the feature's settings (A), one
# without (B), each on its own SQLite file, WORKERS=2 — alternating A/B ROUNDS times in the same
# run (A first in odd rounds, B first in even ones). A_BIN/B_BIN compare two builds instead (e.g.
# before and after a change, with the same settings), AB_PATH measures another GET route (e.g.
# /health/live), and AB_SCRIPT a wrk scenario of bench/scenarios instead (e.g.
# bench/scenarios/register.lua: registrations, which write a user and its events). Prints every
# run, the median req/s and the median p99 latency of each, and the cost of A in percent. The
# load average is printed too: on a shared machine compare runs taken at similar load only.
# Usage: bench/ab-me.sh LABEL "A settings" "B settings" [duration=10s] [connections=64]
#   settings are space-separated KEY=VALUE words added to the environment, e.g.
#   bench/ab-me.sh "metrics" "METRICS_ENABLED=true" "METRICS_ENABLED=false"
#   env: ROUNDS (default 2), LOG_LEVEL (default info, as deployed), USER_SERVICE_BIN (both),
#   A_BIN, B_BIN (default USER_SERVICE_BIN), AB_PATH (default /api/v1/users/me), AB_SCRIPT
#   (a wrk Lua scenario; replaces AB_PATH)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib/service.sh
label="$1"
read -r -a a_settings <<< "$2"
read -r -a b_settings <<< "$3"
duration="${4:-10s}"
conns="${5:-64}"
rounds="${ROUNDS:-2}"
log_level="${LOG_LEVEL:-info}"
bin="${USER_SERVICE_BIN:-build/user-service}"
a_bin="${A_BIN:-$bin}"
b_bin="${B_BIN:-$bin}"
path="${AB_PATH:-/api/v1/users/me}"
script="${AB_SCRIPT:-}"
work="$(mktemp -d /tmp/user-service-ab-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# start NAME BINARY SETTINGS... → the bound port in $started_port. Not called in $(…): the PID must
# reach this shell's `pids`, or the cleanup would leave the instance running.
start() {
  local name="$1" binary="$2"
  shift 2
  env -i PATH=/usr/bin:/bin ENV_FILE=/nonexistent HOST=127.0.0.1 PORT=0 WORKERS=2 \
    DATABASE_URL="sqlite:///$work/$name.db" LOG_LEVEL="$log_level" \
    PASSWORD_HASH_MEMORY_KIB=8 PASSWORD_HASH_ITERATIONS=1 \
    JWT_SECRET=bench-secret-bench-secret-bench-secret-0000 "$@" \
    "$binary" serve > "$work/$name.log" 2>&1 &
  pids+=($!)
  started_port="$(bound_port "$work/$name.log")"
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

start a "$a_bin" "${a_settings[@]}"
a_port="$started_port"
start b "$b_bin" "${b_settings[@]}"
b_port="$started_port"
a_token="$(token "$a_port")"
b_token="$(token "$b_port")"

run_wrk() {  # PORT TOKEN DURATION → "req/s p99-in-ms"
  local target=("http://127.0.0.1:$1$path")
  [[ -n "$script" ]] && target=(-s "$script" "http://127.0.0.1:$1" -- "$work")
  wrk -t1 -c"$conns" -d"$3" --latency -H "Authorization: Bearer $2" "${target[@]}" > "$work/wrk.out"
  grep -q 'Non-2xx' "$work/wrk.out" && { cat "$work/wrk.out" >&2; echo "non-2xx answers" >&2; exit 1; }
  # wrk prints the p99 as e.g. 812.00us, 4.20ms or 1.02s
  awk '/Requests\/sec/ {rps = $2}
       $1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                    p99 = u == "us" ? v / 1000 : u == "s" ? v * 1000 : v}
       END {printf "%s %.2f\n", rps, p99}' "$work/wrk.out"
}

echo "A: $a_bin ${a_settings[*]}" | sed -E 's#://[^@]*@#://***@#g'
echo "B: $b_bin ${b_settings[*]}" | sed -E 's#://[^@]*@#://***@#g'
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run_wrk "$a_port" "$a_token" 2s > /dev/null  # warm-up
run_wrk "$b_port" "$b_token" 2s > /dev/null
a_runs=()
b_runs=()
a_p99=()
b_p99=()
run_a() {
  read -r rps p99 < <(run_wrk "$a_port" "$a_token" "$duration")
  a_runs+=("$rps")
  a_p99+=("$p99")
}
run_b() {
  read -r rps p99 < <(run_wrk "$b_port" "$b_token" "$duration")
  b_runs+=("$rps")
  b_p99+=("$p99")
}
# A first in odd rounds, B first in even ones (ABBA): whichever runs second in a round runs on
# a warmer, busier machine, and alternating cancels that out.
for round in $(seq "$rounds"); do
  if ((round % 2)); then run_a; run_b; else run_b; run_a; fi
  echo "round $round: A ${a_runs[-1]} req/s p99 ${a_p99[-1]} ms," \
    "B ${b_runs[-1]} req/s p99 ${b_p99[-1]} ms (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$label" "${a_runs[*]}" "${b_runs[*]}" "$duration" "$conns" "${script:-GET $path}" \
  "${a_p99[*]}" "${b_p99[*]}" <<'PY'
import statistics, sys
label = sys.argv[1]
a = [float(x) for x in sys.argv[2].split()]
b = [float(x) for x in sys.argv[3].split()]
m_a, m_b = statistics.median(a), statistics.median(b)
p_a = statistics.median(float(x) for x in sys.argv[7].split())
p_b = statistics.median(float(x) for x in sys.argv[8].split())
print(f"{sys.argv[6]}, wrk -t1 -c{sys.argv[5]} -d{sys.argv[4]}, median of {len(a)}: "
      f"{label} on {m_a:.0f} req/s p99 {p_a:.2f} ms, off {m_b:.0f} req/s p99 {p_b:.2f} ms, "
      f"cost {(m_b - m_a) / m_b * 100:.1f}%")
PY
