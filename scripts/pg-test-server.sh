#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the integration tests (and local experiments).
#
#   scripts/pg-test-server.sh start   # start (idempotent), print the URL
#   scripts/pg-test-server.sh url     # print the URL of the running server
#   scripts/pg-test-server.sh stop    # stop it and delete its data
#   scripts/pg-test-server.sh halt    # stop it, keep its data (outage tests); resume restarts it
#
# The cluster listens on 127.0.0.1 only, on a free port, with unix sockets inside its temporary
# folder, password (scram) authentication for a test role, and fsync off (tests, not durability).
# State lives in ${PG_TEST_STATE:-/tmp/user-service-pg-test}/env (PID, PORT, URL, DATA_DIR).
# PostgreSQL refuses to run as root, so when we are root the server runs as the postgres user.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
STATE_DIR=${PG_TEST_STATE:-/tmp/user-service-pg-test}
STATE_FILE="$STATE_DIR/env"
PG_USER=${PG_TEST_USER:-user_service_test}
PG_DB=${PG_TEST_DB:-user_service_test}
START_TIMEOUT=${PG_TEST_START_TIMEOUT:-30}

die() { echo "pg-test-server: $*" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

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
  # A random start so that clusters started at the same moment (parallel tests) rarely pick
  # the same port; start() retries with another port when the bind still loses the race.
  local port offset=$((RANDOM % 1000))
  for port in $(seq $((55432 + offset)) $((56432 + offset))); do
    if port_free "$port"; then echo "$port"; return 0; fi
  done
  die "no free port in 55432-57432"
}

# Starts the postmaster on an initialized data dir and waits until it accepts connections.
# Its PID is read from postmaster.pid (runuser stays in between as the parent, so $! would be
# the wrong process to signal).
launch() {
  local data_dir=$1 port=$2
  as_postgres "$PG_BIN/postgres" -D "$data_dir/data" \
    -c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories="$data_dir" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
    >>"$data_dir/postgres.log" 2>&1 &
  local launcher=$!
  local waited=0
  until as_postgres "$PG_BIN/pg_isready" -q -h "$data_dir" -p "$port"; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      return 1  # e.g. the port was taken in the meantime; the caller decides
    fi
    if [ "$waited" -ge $((START_TIMEOUT * 10)) ]; then
      [ -f "$data_dir/data/postmaster.pid" ] && kill -INT "$(head -1 "$data_dir/data/postmaster.pid")"
      die "postgres not ready within ${START_TIMEOUT}s"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Outage tests: `halt` stops the server but keeps its data, port and password; `resume`
# starts it again on the same port, so a client's URL works again.
halt() {
  load_state || die "no server to halt"
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
    kill -INT "$PID" 2>/dev/null || true
    local waited=0
    while kill -0 "$PID" 2>/dev/null; do
      if [ "$waited" -ge 100 ]; then kill -KILL "$PID" 2>/dev/null || true; fi
      sleep 0.1
      waited=$((waited + 1))
    done
  fi
}

resume() {
  load_state || die "no server to resume"
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then return 0; fi
  launch "$DATA_DIR" "$PORT" || { cat "$DATA_DIR/postgres.log" >&2; die "postgres did not restart"; }
  local pid
  pid=$(head -1 "$DATA_DIR/data/postmaster.pid")
  sed -i "s/^PID=.*/PID=$pid/" "$STATE_FILE"
}

start() {
  if running; then
    echo "$URL"
    return 0
  fi
  stop  # a stale state file from a server that died: remove its data first
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found (apt-get install postgresql-15)"
  mkdir -p "$STATE_DIR"
  local data_dir port password pwfile
  data_dir=$(mktemp -d /tmp/user-service-pg.XXXXXX)
  port=$(pick_port)
  # A random password per cluster: the tests check it never shows up in errors or logs.
  password="pw$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$data_dir"; fi
  chmod 700 "$data_dir"
  pwfile="$data_dir/pwfile"
  printf '%s\n' "$password" >"$pwfile"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pwfile"; fi

  as_postgres "$PG_BIN/initdb" -D "$data_dir/data" -U postgres_admin --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$data_dir/initdb.log" 2>&1 ||
    { cat "$data_dir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"

  local attempt
  for attempt in 1 2 3 4 5; do
    launch "$data_dir" "$port" && break
    if [ "$attempt" = 5 ]; then
      cat "$data_dir/postgres.log" >&2
      die "postgres exited during start-up"
    fi
    port=$(pick_port)
  done
  local pid
  pid=$(head -1 "$data_dir/data/postmaster.pid")

  # The test role may create databases: each test suite works in its own throwaway database.
  as_postgres "$PG_BIN/psql" -q -h "$data_dir" -p "$port" -U postgres_admin -d postgres \
    -v ON_ERROR_STOP=1 -v pw="$password" <<EOF >/dev/null
CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD :'pw';
CREATE DATABASE $PG_DB OWNER $PG_USER;
EOF

  local url="postgresql://$PG_USER:$password@127.0.0.1:$port/$PG_DB"
  umask 077
  cat >"$STATE_FILE" <<EOF
PID=$pid
PORT=$port
URL=$url
DATA_DIR=$data_dir
EOF
  echo "$url"
}

stop() {
  if ! load_state; then
    return 0
  fi
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
    kill -INT "$PID" 2>/dev/null || true  # fast shutdown
    local waited=0
    while kill -0 "$PID" 2>/dev/null; do
      if [ "$waited" -ge 100 ]; then kill -KILL "$PID" 2>/dev/null || true; fi
      sleep 0.1
      waited=$((waited + 1))
    done
  fi
  case "${DATA_DIR:-}" in
    /tmp/user-service-pg.*) rm -rf "$DATA_DIR" ;;
  esac
  rm -f "$STATE_FILE"
}

url() {
  running || die "not running; start it with: bash scripts/pg-test-server.sh start"
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
