#!/usr/bin/env bash
# Foundation benchmark (issue: HTTP core): wrk on GET /health/live against nginx answering
# `return 200` on the same machine in the same run. Prints both and the ratio.
# Usage: bench/live-vs-nginx.sh [duration=10s] [connections=64]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
duration="${1:-10s}"
conns="${2:-64}"
bin="${USER_SERVICE_BIN:-build/user-service}"
work="$(mktemp -d /tmp/user-service-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

nginx_port="$(free_port)"
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"status":"alive"}'; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)

ENV_FILE=/nonexistent HOST=127.0.0.1 PORT=0 DATABASE_URL=sqlite://:memory: LOG_LEVEL=info \
  JWT_SECRET=bench-secret-bench-secret-bench-secret-0000 "$bin" serve > "$work/service.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  port="$(grep -o '"port":[0-9]*' "$work/service.log" 2>/dev/null | head -1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "service did not start"; cat "$work/service.log"; exit 1; }

run_wrk() { wrk -t1 -c"$conns" -d"$duration" --latency "$1" | tee "$work/wrk.out" >&2; awk '/Requests\/sec/ {print $2}' "$work/wrk.out"; }
echo "== warm-up" >&2
wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$nginx_port/" >/dev/null
wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$port/health/live" >/dev/null
echo "== nginx return 200: wrk -t1 -c$conns -d$duration" >&2
nginx_rps="$(run_wrk "http://127.0.0.1:$nginx_port/")"
echo "== user-service /health/live: wrk -t1 -c$conns -d$duration" >&2
svc_rps="$(run_wrk "http://127.0.0.1:$port/health/live")"
python3 - "$nginx_rps" "$svc_rps" <<'PY'
import sys
n, s = float(sys.argv[1]), float(sys.argv[2])
print(f"nginx={n:.0f} req/s  user-service={s:.0f} req/s  ratio={s/n:.2f}")
PY
