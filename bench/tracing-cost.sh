#!/usr/bin/env bash
# What tracing costs (docs/tracing.md), same run, through bench/ab-me.sh (two instances side by
# side, alternating): GET /api/v1/users/me and /health/live with every request traced (sampler
# always_on) and with 1% (traceidratio 0.01), each against tracing off, all exporting to a
# collector that accepts everything (nginx answering `return 200` on 127.0.0.1); then `me`
# with the collector down (nothing listening), whose cost should be nil.
# Usage: bench/tracing-cost.sh [duration=10s] [connections=64]   (env as bench/ab-me.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
duration="${1:-10s}"
conns="${2:-64}"
work="$(mktemp -d /tmp/user-service-tracing-bench.XXXXXX)"
nginx_pid=""
cleanup() { [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  client_max_body_size 16m;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 '{}'; }
  }
}
CONF
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
collector="http://127.0.0.1:$port/v1/traces"
off="RATE_LIMIT_ENABLED=false"
on="RATE_LIMIT_ENABLED=false OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=$collector OTEL_TRACES_SAMPLER=always_on"
tenth="RATE_LIMIT_ENABLED=false OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=$collector"
tenth+=" OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.01"
down="RATE_LIMIT_ENABLED=false OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:1/v1/traces"
down+=" OTEL_TRACES_SAMPLER=always_on"

bash bench/ab-me.sh "me, tracing at 1.0" "$on" "$off" "$duration" "$conns" | tail -1
bash bench/ab-me.sh "me, tracing at 0.01" "$tenth" "$off" "$duration" "$conns" | tail -1
AB_PATH=/health/live bash bench/ab-me.sh "live, tracing at 1.0" "$on" "$off" "$duration" "$conns" |
  tail -1
AB_PATH=/health/live bash bench/ab-me.sh "live, tracing at 0.01" "$tenth" "$off" "$duration" \
  "$conns" | tail -1
bash bench/ab-me.sh "me, collector down, tracing at 1.0" "$down" "$off" "$duration" "$conns" |
  tail -1
