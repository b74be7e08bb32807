#!/usr/bin/env python3
"""Scale-out test (SPEC §7, issue 7): three service instances behind nginx, sharing one
PostgreSQL and one Redis.

    scale_out_test.py /path/to/user-service

Reads USER_SERVICE_TEST_PG_URL and USER_SERVICE_TEST_REDIS_URL (exported by scripts/test.sh)
and FAILS without them. Works in a fresh database of its own (created and dropped here) and
with unique usernames and client addresses, so it does not collide with tests running beside it.

Checks:
  1. all three instances report ready (database and Redis checks ok);
  2. nginx passes the client address in X-Forwarded-For and the instances (TRUSTED_PROXIES)
     log it as client_ip;
  3. a token issued by one instance (hit directly) is accepted by the other two;
  4. the login rate limit is one budget across the three (LOGIN_RATE_LIMIT_PER_MINUTE=3):
     per username (attempts from different addresses) and per client address (different
     usernames), spread over the instances, the 4th attempt gets 429 with Retry-After;
  5. rolling restart under a steady bounded load through nginx: SIGTERM an instance, wait for
     exit 0, start it again on the same port, wait until ready, then the next. Every request
     must get its intended answer (200 and the right body): prints
     "requests sent N, answered N, failed 0".

No timing thresholds: every wait is bounded by count and time only so a broken service fails
instead of hanging. Python 3 standard library only.
"""

import ctypes
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dockerfile_lib import check, failures  # noqa: E402

LOGIN_LIMIT = 3
SHUTDOWN_GRACE_SECONDS = 10
# nginx forgets a failed upstream after this; the rolling restart waits a little longer than
# this after an instance is ready before taking down the next one, as an operator would.
FAIL_TIMEOUT_SECONDS = 2
SETTLE_SECONDS = FAIL_TIMEOUT_SECONDS + 1
LOAD_CLIENTS = 4
LOAD_PAUSE_SECONDS = 0.01  # per client between requests: steady, not a benchmark
LOAD_MAX_REQUESTS_PER_CLIENT = 20000
TEST_DEADLINE_SECONDS = 150  # hard bound for the whole test (normally ~25 s)

started_at = time.monotonic()


def deadline_left():
    return TEST_DEADLINE_SECONDS - (time.monotonic() - started_at)


# ---- processes ---------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # A crashed or killed test must not leave services or nginx running.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Instance:
    """One user-service process; its output is collected line by line."""

    def __init__(self, name, binary, env):
        self.name = name
        self.binary = binary
        self.env = env
        self.port = 0
        self.proc = None
        self.lines = []
        self.lock = threading.Lock()

    def start(self, port=0):
        env = dict(self.env, PORT=str(port))
        # Started from the main thread only: PR_SET_PDEATHSIG follows the parent *thread*.
        self.proc = subprocess.Popen(
            [self.binary, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        started = threading.Event()
        result = {}

        def reader(proc):
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                with self.lock:
                    self.lines.append(line)
                if not started.is_set() and ('"event":"service_started"' in line
                                             or '"event":"startup_failed"' in line):
                    result["line"] = line
                    started.set()
            started.set()

        threading.Thread(target=reader, args=(self.proc,), daemon=True).start()
        started.wait(timeout=min(30, max(1, deadline_left())))
        line = result.get("line", "")
        m = re.search(r'"port":([0-9]+)', line)
        if '"service_started"' not in line or not m:
            raise RuntimeError(f"{self.name} did not start: {line or 'no service_started line'}\n"
                               + self.tail())
        self.port = int(m.group(1))
        return self.port

    def terminate(self, timeout=SHUTDOWN_GRACE_SECONDS + 15):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def tail(self, n=15):
        with self.lock:
            return "\n".join(f"  [{self.name}] {l}" for l in self.lines[-n:])

    def logged(self, needle):
        with self.lock:
            return [l for l in self.lines if needle in l]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, seconds, step=0.05):
    """True once predicate() is true; False after `seconds` (bounded by count and time)."""
    tries = int(seconds / step) + 1
    end = time.monotonic() + seconds
    for _ in range(tries):
        try:
            if predicate():
                return True
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > end:
            break
        time.sleep(step)
    return False


# ---- HTTP ----------------------------------------------------------------------------------

def request(port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        data = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data
    finally:
        conn.close()


def json_body(data):
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}


def register(port, email, password, client_ip):
    body = json.dumps({"email": email, "name": "Scale Out", "password": password})
    return request(port, "POST", "/api/v1/users/", body,
                   {"Content-Type": "application/json", "X-Forwarded-For": client_ip})


def login(port, username, password, client_ip):
    body = urllib.parse.urlencode({"username": username, "password": password})
    return request(port, "POST", "/api/v1/auth/token", body,
                   {"Content-Type": "application/x-www-form-urlencoded",
                    "X-Forwarded-For": client_ip})


def me(port, token):
    return request(port, "GET", "/api/v1/users/me", headers={"Authorization": "Bearer " + token})


def ready(port):
    status, _, data = request(port, "GET", "/health/ready", timeout=3)
    checks = json_body(data).get("checks", {})
    return (status == 200 and checks.get("database", {}).get("status") == "ok"
            and checks.get("redis", {}).get("status") == "ok")


def synthetic_ip():
    # A client address of this run only (the rate-limit keys in the shared Redis are per IP).
    return "10.%d.%d.%d" % tuple(secrets.randbelow(254) + 1 for _ in range(3))


# ---- PostgreSQL: a fresh database for this run ---------------------------------------------

def psql_binary():
    return shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"


def with_database(url, dbname):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


def psql(url, sql):
    subprocess.run([psql_binary(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=30)


# ---- nginx ---------------------------------------------------------------------------------

NGINX_CONF = """\
# The load balancer of the scale-out test: what an operator would run in front of replicas.
daemon off;
# One process, so PR_SET_PDEATHSIG on it leaves nothing behind if the test is killed.
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  log_format upstreams '$status $request_method $uri upstream=$upstream_addr '
                       'upstream_status=$upstream_status';
  access_log {dir}/access.log upstreams;

  upstream user_service {{
{servers}
    # Reused connections to the instances; a reused connection the instance has just closed
    # (drain) is an "error" below and the request is retried on another instance.
    keepalive 16;
    # Shorter than the instances' KEEPALIVE_TIMEOUT_SECONDS (75): nginx retires an idle
    # connection before the instance would close it under a request.
    keepalive_timeout 60s;
  }}

  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://user_service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 2s;
      proxy_read_timeout 40s;
      # Rolling restart: a stopped instance refuses connections ("error") and a draining one
      # may answer 503 on readiness; idempotent requests go to the next instance. POST is
      # never retried (nginx's default without non_idempotent).
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 3;
      proxy_next_upstream_timeout 10s;
    }}
  }}
}}
"""


class Nginx:
    def __init__(self, workdir, upstream_ports):
        self.dir = os.path.join(workdir, "nginx")
        os.makedirs(self.dir)
        self.upstream_ports = upstream_ports
        self.proc = None
        self.port = 0

    def start(self):
        servers = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;"
            for p in self.upstream_ports)
        for _ in range(5):  # another process may take the free port between probe and bind
            self.port = free_port()
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(dir=self.dir, servers=servers, port=self.port))
            cmd = ["nginx", "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")]
            subprocess.run(cmd + ["-t", "-q"], check=True, timeout=30)
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            if wait_until(lambda: request(self.port, "GET", "/health/live", timeout=2)[0] == 200, 10):
                return self.port
            self.stop()
        raise RuntimeError("nginx did not start:\n" + self.error_log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def access_lines(self):
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                return f.read().splitlines()
        except OSError:
            return []


# ---- load ----------------------------------------------------------------------------------

class Load:
    """A few keep-alive clients through nginx: GET /api/v1/users/me and GET /health/live."""

    def __init__(self, port, token, user_id):
        self.port, self.token, self.user_id = port, token, user_id
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.sent = self.answered = 0
        self.errors = []
        self.answered_at = []  # monotonic times of good answers (to show load during restarts)
        self.threads = []

    def _one(self, conn, path, headers):
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        data = res.read()
        if res.status != 200:
            return f"{path}: {res.status} {data[:200]!r}"
        body = json_body(data)
        if path == "/health/live" and body.get("status") != "alive":
            return f"{path}: unexpected body {data[:200]!r}"
        if path == "/api/v1/users/me" and body.get("id") != self.user_id:
            return f"{path}: unexpected body {data[:200]!r}"
        return None

    def _client(self, n):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        auth = {"Authorization": "Bearer " + self.token, "X-Forwarded-For": synthetic_ip()}
        for i in range(LOAD_MAX_REQUESTS_PER_CLIENT):
            if self.stop_event.is_set() or deadline_left() < 10:
                break
            path = "/api/v1/users/me" if i % 2 == 0 else "/health/live"
            with self.lock:
                self.sent += 1
            try:
                error = self._one(conn, path, auth)
            except (OSError, http.client.HTTPException) as e:
                error = f"{path}: {type(e).__name__}: {e}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            with self.lock:
                if error is None:
                    self.answered += 1
                    self.answered_at.append(time.monotonic())
                else:
                    self.errors.append(error)
            time.sleep(LOAD_PAUSE_SECONDS)
        conn.close()

    def start(self):
        for n in range(LOAD_CLIENTS):
            t = threading.Thread(target=self._client, args=(n,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=40)

    def answered_between(self, start, end):
        with self.lock:
            return sum(1 for t in self.answered_at if start <= t <= end)


# ---- the test ------------------------------------------------------------------------------

def main():
    if len(sys.argv) != 2:
        print("usage: scale_out_test.py /path/to/user-service", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    pg_url = os.environ.get("USER_SERVICE_TEST_PG_URL", "")
    redis_url = os.environ.get("USER_SERVICE_TEST_REDIS_URL", "")
    if not pg_url or not redis_url:
        print("FAIL: USER_SERVICE_TEST_PG_URL and USER_SERVICE_TEST_REDIS_URL must be set: run the "
              "suite with scripts/test.sh (make test), which starts PostgreSQL and Redis")
        return 1
    if not os.access(binary, os.X_OK):
        print(f"FAIL: {binary} is not an executable")
        return 1

    workdir = tempfile.mkdtemp(prefix="user-service-scale-out.")
    dbname = "scale_out_" + secrets.token_hex(6)
    db_url = with_database(pg_url, dbname)
    instances, nginx, load = [], None, None
    created_db = False
    try:
        psql(pg_url, f"CREATE DATABASE {dbname}")
        created_db = True
        env = {
            "PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent/.env",
            "ENVIRONMENT": "staging", "HOST": "127.0.0.1", "WORKERS": "2",
            "DATABASE_URL": db_url, "DATABASE_POOL_SIZE": "4", "MIGRATE_ON_START": "false",
            "REDIS_URL": redis_url, "RATE_LIMIT_FAIL_OPEN": "false",
            # One secret for all replicas: that is what makes a token portable.
            "JWT_SECRET": secrets.token_hex(32),
            "PASSWORD_HASH_MEMORY_KIB": "8", "PASSWORD_HASH_ITERATIONS": "1",
            "LOGIN_RATE_LIMIT_PER_MINUTE": str(LOGIN_LIMIT),
            # The load below is not what the default policy is about.
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "TRUSTED_PROXIES": "127.0.0.1/32",
            "SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE_SECONDS),
            "LOG_LEVEL": "info", "LOG_FORMAT": "json",
        }
        # The release step of compose and Kubernetes: migrate once, then start the replicas.
        migrate = subprocess.run([binary, "migrate"], env=env, stdin=subprocess.DEVNULL,
                                 capture_output=True, timeout=60)
        if not check(migrate.returncode == 0, f"migrate exited {migrate.returncode}: "
                     f"{migrate.stdout.decode()[-1000:]}{migrate.stderr.decode()[-1000:]}"):
            return 1

        for i in range(3):
            inst = Instance(f"instance{i + 1}", binary, env)
            inst.start(0)
            instances.append(inst)
        ports = [inst.port for inst in instances]
        print(f"instances on 127.0.0.1 ports {ports}", flush=True)

        # 1. all three ready
        for inst in instances:
            check(wait_until(lambda: ready(inst.port), 15), f"{inst.name} is not ready")

        nginx = Nginx(workdir, ports)
        lb = nginx.start()
        print(f"nginx on 127.0.0.1:{lb}", flush=True)

        # 2. X-Forwarded-For through nginx names the client
        client = synthetic_ip()
        rid = "scale-out-" + secrets.token_hex(8)
        # Not a health route: those are logged at debug level only. 401 is the intended answer.
        status, _, _ = request(lb, "GET", "/api/v1/users/me",
                               headers={"X-Forwarded-For": client, "X-Request-ID": rid})
        check(status == 401, f"GET /api/v1/users/me without a token through nginx: {status}")
        # The instances log off the I/O threads: wait for the line (bounded).
        def client_logged():
            return any(f'"client_ip":"{client}"' in l for inst in instances for l in inst.logged(rid))

        check(wait_until(client_logged, 5),
              f"no instance logged client_ip {client} for request {rid}: "
              f"{[l for inst in instances for l in inst.logged(rid)][:2]}")

        # 3. a token issued by instance 1 is accepted by instances 2 and 3 (and through nginx)
        password = "correct horse " + secrets.token_hex(4)
        email = f"scale-{secrets.token_hex(6)}@example.com"
        status, _, data = register(ports[0], email, password, synthetic_ip())
        check(status == 201, f"register on instance1: {status} {data[:200]!r}")
        user_id = json_body(data).get("id", "")
        status, _, data = login(ports[0], email, password, synthetic_ip())
        check(status == 200, f"login on instance1: {status} {data[:200]!r}")
        token = json_body(data).get("access_token", "")
        for inst in instances[1:] + [None]:
            port, name = (inst.port, inst.name) if inst else (lb, "nginx")
            status, _, data = me(port, token)
            check(status == 200 and json_body(data).get("id") == user_id,
                  f"token from instance1 on {name}: {status} {data[:200]!r}")
        print("token issued by instance1 accepted by instance2, instance3 and through nginx",
              flush=True)

        # 4. one login budget across the three: per username, then per client address
        victim = f"limit-{secrets.token_hex(6)}@example.com"
        status, _, data = register(ports[1], victim, password, synthetic_ip())
        check(status == 201, f"register on instance2: {status} {data[:200]!r}")
        statuses = []
        last = None
        for attempt in range(LOGIN_LIMIT + 1):  # each attempt from a new address
            last = login(ports[attempt % 3], victim, "wrong password", synthetic_ip())
            statuses.append(last[0])
        check(statuses[:LOGIN_LIMIT] == [401] * LOGIN_LIMIT and statuses[-1] == 429,
              f"per-username login budget across instances: statuses {statuses} "
              f"(want {[401] * LOGIN_LIMIT + [429]})")
        check(last[0] != 429 or (last[1].get("retry-after", "").isdigit()
                                 and int(last[1]["retry-after"]) >= 1
                                 and json_body(last[2]).get("error") == "RATE_LIMITED"),
              f"429 without Retry-After or RATE_LIMITED envelope: {last[1]} {last[2][:200]!r}")
        ip = synthetic_ip()
        ip_statuses = []
        for attempt in range(LOGIN_LIMIT + 1):  # one address, a new username each time
            who = f"nobody-{secrets.token_hex(6)}@example.com"
            ip_statuses.append(login(ports[(attempt + 1) % 3], who, "wrong password", ip)[0])
        check(ip_statuses[:LOGIN_LIMIT] == [401] * LOGIN_LIMIT and ip_statuses[-1] == 429,
              f"per-address login budget across instances: statuses {ip_statuses} "
              f"(want {[401] * LOGIN_LIMIT + [429]})")
        print(f"login budget across instances: per username {statuses}, per address {ip_statuses}",
              flush=True)

        # 5. rolling restart under load
        if not token or not user_id:
            check(False, "no token: the rolling restart needs one")
            return 1
        load = Load(lb, token, user_id)
        load.start()
        time.sleep(1)
        windows = []
        for inst in instances:
            t0 = time.monotonic()
            code = inst.terminate()
            stopped = time.monotonic()
            check(code == 0, f"{inst.name} exited {code} after SIGTERM\n{inst.tail()}")
            drained = [l for l in inst.logged('"event":"service_stopped"')]
            check(bool(drained), f"{inst.name} did not log service_stopped")
            port = inst.port
            inst.start(port)
            check(inst.port == port, f"{inst.name} came back on {inst.port}, not {port}")
            check(wait_until(lambda: ready(inst.port), 15), f"{inst.name} not ready after restart")
            t1 = time.monotonic()
            windows.append((inst.name, t0, t1, stopped - t0))
            time.sleep(SETTLE_SECONDS)
        time.sleep(1)
        load.stop()

        retried = sum(1 for l in nginx.access_lines() if "upstream=" in l and ", " in l)
        print(f"rolling restart: requests sent {load.sent}, answered {load.answered}, "
              f"failed {load.sent - load.answered}", flush=True)
        for name, t0, t1, drain in windows:
            n = load.answered_between(t0, t1)
            print(f"  {name}: drained and exited in {drain:.2f} s; {n} requests answered "
                  f"while it was stopping or starting", flush=True)
            check(n > 0, f"no load while {name} restarted: the check would prove nothing")
        print(f"  nginx passed {retried} requests on to another instance", flush=True)
        for e in load.errors[:10]:
            print("  error:", e)
        check(load.sent > 0 and load.answered == load.sent,
              f"{load.sent - load.answered} of {load.sent} requests failed during the rolling "
              "restart")
    except Exception as e:  # noqa: BLE001 — any crash is a failing test with its evidence
        check(False, f"{type(e).__name__}: {e}")
    finally:
        if load:
            load.stop()
        if failures:
            for inst in instances:
                print(inst.tail())
            if nginx:
                print("nginx error log:\n" + nginx.error_log())
        for inst in instances:
            if inst.proc and inst.proc.poll() is None:
                inst.terminate(timeout=SHUTDOWN_GRACE_SECONDS + 5)
            inst.kill()
        if nginx:
            nginx.stop()
        if created_db:
            try:
                psql(pg_url, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            except (subprocess.SubprocessError, OSError) as e:
                print(f"note: could not drop {dbname}: {e}")
        shutil.rmtree(workdir, ignore_errors=True)

    elapsed = time.monotonic() - started_at
    if failures:
        print(f"scale-out test FAILED ({len(failures)} checks) in {elapsed:.1f} s")
        return 1
    print(f"scale-out test passed in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
