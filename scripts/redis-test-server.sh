#!/usr/bin/env bash
# A throwaway Redis for the integration and end-to-end tests (and local experiments).
#
#   scripts/redis-test-server.sh start   # start (idempotent), print the URL
#   scripts/redis-test-server.sh url     # print the URL of the running server
#   scripts/redis-test-server.sh stop    # stop it and delete its data
#   scripts/redis-test-server.sh halt    # stop it, keep port and password (outage tests)
#   scripts/redis-test-server.sh resume  # start it again on the same port with the same password
#
# Listens on 127.0.0.1 only, on a free port, with a random password (requirepass), no
# persistence. State lives in ${REDIS_TEST_STATE:-/tmp/user-service-redis-test}/env
# (PID, PORT, URL, DATA_DIR, PASSWORD). Stopped by PID, never by name.
set -euo pipefail

REDIS_SERVER=${REDIS_SERVER:-redis-server}
STATE_DIR=${REDIS_TEST_STATE:-/tmp/user-service-redis-test}
STATE_FILE="$STATE_DIR/env"
START_TIMEOUT=${REDIS_TEST_START_TIMEOUT:-15}

die() { echo "redis-test-server: $*" >&2; exit 1; }

load_state() {
  [ -f "$STATE_FILE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE_FILE"
}

running() {
  load_state || return 1
  [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null
}

port_free() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

pick_port() {
  # A random start so that servers started at the same moment rarely pick the same port;
  # start() retries with another port when the bind still loses the race.
  local port offset=$((RANDOM % 1000))
  for port in $(seq $((46379 + offset)) $((47379 + offset))); do
    if port_free "$port"; then echo "$port"; return 0; fi
  done
  die "no free port in 46379-48379"
}

# Writes the config (the password stays out of argv and so out of `ps`), starts redis-server
# daemonized with a pidfile and waits until it answers PING. Returns 1 when it exited early.
launch() {
  local data_dir=$1 port=$2 password=$3
  umask 077
  cat >"$data_dir/redis.conf" <<EOF
bind 127.0.0.1
port $port
protected-mode yes
requirepass $password
dir $data_dir
save ""
appendonly no
daemonize yes
pidfile $data_dir/redis.pid
logfile $data_dir/redis.log
EOF
  rm -f "$data_dir/redis.pid"
  "$REDIS_SERVER" "$data_dir/redis.conf" >>"$data_dir/redis.log" 2>&1 || return 1
  local waited=0
  until [ -s "$data_dir/redis.pid" ] && REDISCLI_AUTH="$password" redis-cli -h 127.0.0.1 \
      -p "$port" ping 2>/dev/null | grep -q PONG; do
    if [ -s "$data_dir/redis.pid" ] && ! kill -0 "$(cat "$data_dir/redis.pid")" 2>/dev/null; then
      return 1
    fi
    if [ "$waited" -ge $((START_TIMEOUT * 10)) ]; then
      if [ -s "$data_dir/redis.pid" ]; then kill -TERM "$(cat "$data_dir/redis.pid")" || true; fi
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

kill_pid() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$waited" -ge 100 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
      sleep 0.1
      waited=$((waited + 1))
    done
  fi
}

halt() {
  load_state || die "no server to halt"
  kill_pid "${PID:-}"
}

resume() {
  load_state || die "no server to resume"
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then return 0; fi
  launch "$DATA_DIR" "$PORT" "$PASSWORD" || { cat "$DATA_DIR/redis.log" >&2; die "redis did not restart"; }
  sed -i "s/^PID=.*/PID=$(cat "$DATA_DIR/redis.pid")/" "$STATE_FILE"
}

start() {
  if running; then
    echo "$URL"
    return 0
  fi
  stop  # a stale state file from a server that died: remove its data first
  command -v "$REDIS_SERVER" >/dev/null || die "$REDIS_SERVER not found (apt-get install redis-server)"
  mkdir -p "$STATE_DIR"
  local data_dir port password attempt
  data_dir=$(mktemp -d /tmp/user-service-redis.XXXXXX)
  chmod 700 "$data_dir"
  # A random password per server: the tests check it never shows up in errors or logs.
  password="pw$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    launch "$data_dir" "$port" "$password" && break
    if [ "$attempt" = 5 ]; then
      cat "$data_dir/redis.log" >&2
      rm -rf "$data_dir"
      die "redis-server did not start"
    fi
  done
  local url="redis://:$password@127.0.0.1:$port/0"
  umask 077
  cat >"$STATE_FILE" <<EOF
PID=$(cat "$data_dir/redis.pid")
PORT=$port
PASSWORD=$password
URL=$url
DATA_DIR=$data_dir
EOF
  echo "$url"
}

stop() {
  load_state || return 0
  kill_pid "${PID:-}"
  case "${DATA_DIR:-}" in
    /tmp/user-service-redis.*) rm -rf "$DATA_DIR" ;;
  esac
  rm -f "$STATE_FILE"
}

url() {
  running || die "not running; start it with: bash scripts/redis-test-server.sh start"
  echo "$URL"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  halt) halt ;;
  resume) resume ;;
  *) echo "usage: $0 start|stop|url|halt|resume" >&2; exit 2 ;;
esac
