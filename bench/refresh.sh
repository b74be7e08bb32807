#!/usr/bin/env bash
# The refresh grant under load (docs/sessions.md): a PostgreSQL-backed instance at its default
# settings (WORKERS = cores, the default pool, info logs; the rate limit off, as the load comes
# from one address), N sessions seeded straight into the database
# (tokens made here, stored as their SHA-256 like the service does), then wrk spends one refresh
# token per request, so every request is a full rotation: one data-modifying statement that
# spends the token, stores its successor and moves the session's expiry, plus signing a JWT.
# Prints req/s and the latency percentiles; writes bench/results/refresh-latest.json.
# Usage: bench/refresh.sh [duration=10s] [connections=64] [sessions=150000]
#   env: USER_SERVICE_BIN (default build/user-service)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib/service.sh
duration="${1:-10s}"
conns="${2:-64}"
sessions="${3:-150000}"
bin="${USER_SERVICE_BIN:-build/user-service}"
work="$(mktemp -d /tmp/user-service-refresh-bench.XXXXXX)"
export PG_TEST_STATE="$work/pg"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  bash scripts/pg-test-server.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bash scripts/pg-test-server.sh start >/dev/null
pg_url="$(bash scripts/pg-test-server.sh url)"
psql_bin="$(ls /usr/lib/postgresql/*/bin/psql | head -1)"

env -i PATH=/usr/bin:/bin ENV_FILE=/nonexistent HOST=127.0.0.1 PORT=0 DATABASE_URL="$pg_url" \
  RATE_LIMIT_ENABLED=false PASSWORD_HASH_MEMORY_KIB=8 PASSWORD_HASH_ITERATIONS=1 \
  JWT_SECRET=bench-secret-bench-secret-bench-secret-0000 "$bin" serve > "$work/service.log" 2>&1 &
pid=$!
port="$(bound_port "$work/service.log")"
base="http://127.0.0.1:$port"
user_id="$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","name":"Bench","password":"bench-password-1"}' \
  "$base/api/v1/users/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"

# Seed: one session per token, as a sign-in would have made it.
python3 - "$work" "$sessions" "$user_id" <<'PY'
import base64, hashlib, os, sys, uuid
work, n, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(f"{work}/refresh_tokens.txt", "w") as tokens, \
     open(f"{work}/sessions.csv", "w") as sessions, open(f"{work}/tokens.csv", "w") as rows:
    for _ in range(n):
        token = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        sid = str(uuid.uuid4())
        tokens.write(token + "\n")
        sessions.write(f"{sid},{user},2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,"
                       f"2099-01-01T00:00:00Z,2099-01-01T00:00:00Z,bench,127.0.0.1\n")
        rows.write(f"{hashlib.sha256(token.encode()).hexdigest()},{sid}\n")
PY
"$psql_bin" -q "$pg_url" -v ON_ERROR_STOP=1 <<SQL
\copy sessions (id, user_id, created_at, last_used_at, expires_at, max_expires_at, user_agent, client_ip) FROM '$work/sessions.csv' WITH (FORMAT csv)
CREATE TEMP TABLE seed (token_hash text, session_id uuid);
\copy seed FROM '$work/tokens.csv' WITH (FORMAT csv)
INSERT INTO refresh_tokens (token_hash, session_id, issued_at) SELECT token_hash, session_id, '2026-01-01T00:00:00Z' FROM seed;
ANALYZE sessions; ANALYZE refresh_tokens;
SQL

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t1 -c"$conns" -d"$duration" --latency -s bench/scenarios/refresh.lua "$base" -- "$work" \
  > "$work/wrk.out"
cat "$work/wrk.out"
grep -q 'Non-2xx' "$work/wrk.out" && { echo "non-2xx answers: a token ran out or was refused" >&2; exit 1; }
mkdir -p bench/results
python3 - "$work/wrk.out" "$conns" "$duration" "$sessions" <<'PY' | tee bench/results/refresh-latest.json
import json, re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(json.dumps({"scenario": "refresh", "connections": int(sys.argv[2]), "duration": sys.argv[3],
                  "seeded_sessions": int(sys.argv[4]), "requests_per_second": rps,
                  "p50_ms": ms("50"), "p99_ms": ms("99")}))
PY
