#!/usr/bin/env python3
"""Scale-out test (docs/operations.md, "Deployment"): three service instances behind nginx,
sharing one PostgreSQL and one Redis.

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
  5. rolling restart under a mixed bounded load (registrations, sign-ins, PATCHes, GETs)
     through nginx with `proxy_next_upstream off` (nginx never resends a request, so every
     request lost in a drain is a failure), three rounds of all three instances. Per instance,
     as Kubernetes does it: SIGTERM; 0.5 s later (the endpoint removal travelling) nginx is
     reloaded without the instance, which meanwhile keeps serving (SHUTDOWN_DELAY_SECONDS);
     exit 0; start again on the same port; ready; nginx reloaded with it back. Every request
     must get its intended answer: prints sent / answered / failed per kind and per round, and
     how many requests each draining instance answered between its SIGTERM and its exit.

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
# The instances keep their listener open this long after SIGTERM; nginx drops the instance
# PROPAGATION_SECONDS after the signal, as an endpoint removal reaches an ingress.
SHUTDOWN_DELAY_SECONDS = 2
PROPAGATION_SECONDS = 0.5
SETTLE_SECONDS = 0.5
ROUNDS = 3
LOAD_CLIENTS = 4
LOAD_PAUSE_SECONDS = 0.005  # per client between requests: steady, not a benchmark
LOAD_MAX_CYCLES_PER_CLIENT = 20000
TEST_DEADLINE_SECONDS = 240  # hard bound for the whole test (normally ~70 s)
KINDS = ("register", "login", "patch", "me", "live")

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


def refresh(port, refresh_token, client_ip):
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token})
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
# A master process, so that a reload (SIGHUP) changes the upstreams the way an ingress follows
# the endpoints; the test stops its workers by PID too.
master_process on;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  log_format upstreams '$msec $status $request_method $uri upstream=$upstream_addr '
                       'upstream_status=$upstream_status';
  access_log {dir}/access.log upstreams;

  upstream user_service {{
{servers}
    # Reused connections to the instances: a pooled connection that a draining instance
    # closed under a request would be a 502 below (no retries), so the test sees it.
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
      # No retries, not even of GETs: every request the drain loses is a failed request.
      proxy_next_upstream off;
    }}
  }}
}}
"""


class Nginx:
    """nginx in front of the instances; reload() changes the upstream list like an ingress that
    follows the Service's endpoints."""

    def __init__(self, workdir, upstream_ports):
        self.dir = os.path.join(workdir, "nginx")
        os.makedirs(self.dir)
        self.upstream_ports = list(upstream_ports)
        self.proc = None
        self.port = 0
        self.workers_seen = set()
        self.conf = os.path.join(self.dir, "nginx.conf")

    def _write_conf(self):
        servers = "\n".join(f"    server 127.0.0.1:{p};" for p in self.upstream_ports)
        user = "user root;" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, servers=servers, port=self.port, user=user))

    def _cmd(self):
        return ["nginx", "-p", self.dir, "-c", self.conf, "-e", os.path.join(self.dir, "error.log")]

    def workers(self):
        """The master's children now (its worker processes)."""
        if not self.proc or self.proc.poll() is not None:
            return set()
        pids = set()
        try:
            for task in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{task}/children") as f:
                    pids.update(int(p) for p in f.read().split())
        except OSError:
            pass
        self.workers_seen |= pids
        return pids

    def start(self):
        for _ in range(5):  # another process may take the free port between probe and bind
            self.port = free_port()
            self._write_conf()
            subprocess.run(self._cmd() + ["-t", "-q"], check=True, timeout=30)
            self.proc = subprocess.Popen(self._cmd(), stdin=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent)
            if wait_until(lambda: request(self.port, "GET", "/health/live", timeout=2)[0] == 200, 10):
                self.workers()
                return self.port
            self.stop()
        raise RuntimeError("nginx did not start:\n" + self.error_log())

    def reload(self, upstream_ports):
        """Points nginx at `upstream_ports`; returns once a new worker serves with them."""
        self.upstream_ports = list(upstream_ports)
        self._write_conf()
        subprocess.run(self._cmd() + ["-t", "-q"], check=True, timeout=30)
        before = self.workers()
        self.proc.send_signal(signal.SIGHUP)
        return wait_until(lambda: bool(self.workers() - before), 10, step=0.02)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.workers()
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Workers of a killed master would live on: stop the ones this test started.
        for pid in self.workers_seen:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"nginx" not in f.read():
                        continue
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

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

    def answered_by(self, port, start, end):
        """Requests nginx passed to 127.0.0.1:`port` that were answered in [start, end] (wall
        clock), with any status."""
        n = 0
        for line in self.access_lines():
            parts = line.split(" ")
            if len(parts) < 5 or not parts[4] == f"upstream=127.0.0.1:{port}":
                continue
            try:
                t = float(parts[0])
            except ValueError:
                continue
            if start <= t <= end:
                n += 1
        return n


# ---- load ----------------------------------------------------------------------------------

class Load:
    """A few clients through nginx, each cycling through a registration, a sign-in as that new
    user, a PATCH of its name, GET /api/v1/users/me and GET /health/live. A new connection to
    nginx per request (nginx's own idle client connections are not what is tested); nginx keeps
    pooled connections to the instances."""

    def __init__(self, port):
        self.port = port
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.sent = {k: 0 for k in KINDS}
        self.answered = {k: 0 for k in KINDS}
        self.errors = []
        self.answered_at = []  # monotonic times of good answers (to show load during restarts)
        self.threads = []

    def totals(self):
        with self.lock:
            return dict(self.sent), dict(self.answered)

    def _call(self, kind, method, path, body=None, headers=None):
        """One request on a new connection; (status, parsed body) or raises."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            h = {"Connection": "close", "X-Forwarded-For": synthetic_ip()}
            h.update(headers or {})
            with self.lock:
                self.sent[kind] += 1
            conn.request(method, path, body=body, headers=h)
            res = conn.getresponse()
            data = res.read()
            return res.status, data
        finally:
            conn.close()

    def _one(self, kind, want_status, check_body, method, path, body=None, headers=None):
        try:
            status, data = self._call(kind, method, path, body, headers)
        except (OSError, http.client.HTTPException) as e:
            error = f"{kind}: {type(e).__name__}: {e}"
            data, status = b"", 0
        else:
            parsed = json_body(data)
            error = None
            if status != want_status:
                error = f"{kind}: {status} {data[:200]!r}"
            elif check_body and not check_body(parsed):
                error = f"{kind}: unexpected body {data[:200]!r}"
        with self.lock:
            if error is None:
                self.answered[kind] += 1
                self.answered_at.append(time.monotonic())
            else:
                self.errors.append(error)
        return None if error else json_body(data)

    def _client(self, n):
        password = "correct horse " + secrets.token_hex(4)
        for i in range(LOAD_MAX_CYCLES_PER_CLIENT):
            if self.stop_event.is_set() or deadline_left() < 15:
                break
            email = f"load-{n}-{i}-{secrets.token_hex(4)}@example.com"
            json_headers = {"Content-Type": "application/json"}
            user = self._one("register", 201, lambda b: b.get("email") == email, "POST",
                             "/api/v1/users/",
                             json.dumps({"email": email, "name": "Load", "password": password}),
                             json_headers)
            if user is None:
                continue
            form = urllib.parse.urlencode({"username": email, "password": password})
            token = self._one("login", 200, lambda b: bool(b.get("access_token")), "POST",
                              "/api/v1/auth/token", form,
                              {"Content-Type": "application/x-www-form-urlencoded"})
            if token is None:
                continue
            auth = {"Authorization": "Bearer " + token["access_token"]}
            name = f"Load {n}.{i}"
            self._one("patch", 200, lambda b: b.get("name") == name, "PATCH", "/api/v1/users/me",
                      json.dumps({"name": name}), dict(auth, **json_headers))
            self._one("me", 200, lambda b: b.get("id") == user.get("id"), "GET",
                      "/api/v1/users/me", headers=auth)
            self._one("live", 200, lambda b: b.get("status") == "alive", "GET", "/health/live")
            time.sleep(LOAD_PAUSE_SECONDS)

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
            "SHUTDOWN_DELAY_SECONDS": str(SHUTDOWN_DELAY_SECONDS),
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
        first = json_body(data)  # its refresh token is used in 3b
        token = first.get("access_token", "")
        for inst in instances[1:] + [None]:
            port, name = (inst.port, inst.name) if inst else (lb, "nginx")
            status, _, data = me(port, token)
            check(status == 200 and json_body(data).get("id") == user_id,
                  f"token from instance1 on {name}: {status} {data[:200]!r}")
        print("token issued by instance1 accepted by instance2, instance3 and through nginx",
              flush=True)

        # 3b. revocation is seen by every replica on the next request (docs/sessions.md):
        # refresh on instance2, refresh again on instance1 (the successor is spent: no grace
        # retry any more), replay the first refresh token on instance3 (theft), and the
        # session's access tokens are refused by all three and through nginx.
        status, _, data = refresh(ports[1], first.get("refresh_token", ""), synthetic_ip())
        check(status == 200, f"refresh on instance2: {status} {data[:200]!r}")
        second = json_body(data)
        for port in ports:
            status, _, _ = me(port, second.get("access_token", ""))
            check(status == 200, f"refreshed token on port {port}: {status}")
        status, _, data = refresh(ports[0], second.get("refresh_token", ""), synthetic_ip())
        check(status == 200, f"second refresh on instance1: {status} {data[:200]!r}")
        third = json_body(data)
        status, _, data = refresh(ports[2], first.get("refresh_token", ""), synthetic_ip())
        check(status == 400 and json_body(data).get("error") == "INVALID_GRANT",
              f"spent refresh token replayed on instance3: {status} {data[:200]!r}")
        for port, name in [(p, f"instance{i + 1}") for i, p in enumerate(ports)] + [(lb, "nginx")]:
            for which, access in (("first", first), ("refreshed", second), ("latest", third)):
                status, _, _ = me(port, access.get("access_token", ""))
                check(status == 401, f"{which} token of the revoked session on {name}: {status}")
        # Logout on one replica, refused on the others.
        status, _, data = login(ports[0], email, password, synthetic_ip())
        check(status == 200, f"second login on instance1: {status} {data[:200]!r}")
        session = json_body(data).get("access_token", "")
        status, _, _ = request(ports[1], "POST", "/api/v1/auth/logout",
                               headers={"Authorization": "Bearer " + session})
        check(status == 204, f"logout on instance2: {status}")
        for port in (ports[0], ports[2]):
            status, _, _ = me(port, session)
            check(status == 401, f"logged-out token on port {port}: {status}")
        print("refresh reuse on instance3 and logout on instance2 revoked the sessions on every "
              "replica and through nginx", flush=True)

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

        # 5. rolling restart under a mixed load, no proxy retries, ROUNDS times
        load = Load(lb)
        load.start()
        time.sleep(1)
        windows = []
        round_totals = []
        for rnd in range(1, ROUNDS + 1):
            sent0, answered0 = load.totals()
            errors0 = len(load.errors)
            for inst in instances:
                if deadline_left() < 30:
                    check(False, f"out of time before round {rnd}, {inst.name}")
                    break
                others = [i.port for i in instances if i is not inst]
                t0, wall0 = time.monotonic(), time.time()
                inst.proc.send_signal(signal.SIGTERM)
                time.sleep(PROPAGATION_SECONDS)  # nginx still sends to the draining instance
                check(nginx.reload(others), f"nginx did not reload without {inst.name}")
                try:
                    code = inst.proc.wait(timeout=SHUTDOWN_DELAY_SECONDS + SHUTDOWN_GRACE_SECONDS + 15)
                except subprocess.TimeoutExpired:
                    code = None
                    inst.kill()
                stopped, wall_stopped = time.monotonic(), time.time()
                check(code == 0, f"round {rnd}: {inst.name} exited {code} after SIGTERM\n{inst.tail()}")
                check(bool(inst.logged('"event":"service_stopped"')),
                      f"round {rnd}: {inst.name} did not log service_stopped")
                port = inst.port
                inst.start(port)
                check(inst.port == port, f"{inst.name} came back on {inst.port}, not {port}")
                check(wait_until(lambda: ready(inst.port), 15), f"{inst.name} not ready after restart")
                check(nginx.reload([i.port for i in instances]),
                      f"nginx did not reload with {inst.name} back")
                t1 = time.monotonic()
                served = nginx.answered_by(port, wall0, wall_stopped)
                windows.append((rnd, inst.name, t0, t1, stopped - t0, served))
                time.sleep(SETTLE_SECONDS)
            sent1, answered1 = load.totals()
            round_totals.append((rnd, {k: sent1[k] - sent0[k] for k in KINDS},
                                 {k: answered1[k] - answered0[k] for k in KINDS},
                                 len(load.errors) - errors0))
        time.sleep(1)
        load.stop()

        sent, answered = load.totals()
        retried = sum(1 for l in nginx.access_lines() if "upstream=" in l and ", " in l)
        total_sent, total_answered = sum(sent.values()), sum(answered.values())
        print(f"rolling restart, {ROUNDS} rounds, proxy_next_upstream off: requests sent "
              f"{total_sent}, answered {total_answered}, failed {total_sent - total_answered}",
              flush=True)
        for k in KINDS:
            print(f"  {k:8s} sent {sent[k]:6d}  answered {answered[k]:6d}  "
                  f"failed {sent[k] - answered[k]}", flush=True)
        for rnd, rs, _, errs in round_totals:
            detail = ", ".join(f"{k} {rs[k]}" for k in KINDS)
            print(f"  round {rnd}: sent {detail}; failed {errs}", flush=True)
        drained_total = 0
        for rnd, name, t0, t1, drain, served in windows:
            n = load.answered_between(t0, t1)
            drained_total += served
            print(f"  round {rnd} {name}: drained and exited in {drain:.2f} s, answered {served} "
                  f"requests between its SIGTERM and its exit; {n} answered by all while it "
                  f"stopped and started", flush=True)
            check(n > 0, f"no load while {name} restarted: the check would prove nothing")
        check(drained_total > 0, "no draining instance answered a request: the drain was not exercised")
        print(f"  nginx passed {retried} requests on to another instance (retries are off)", flush=True)
        for e in load.errors[:10]:
            print("  error:", e)
        check(total_sent > 0 and total_answered == total_sent,
              f"{total_sent - total_answered} of {total_sent} requests failed during the rolling "
              "restarts")
        check(all(answered[k] > 0 for k in KINDS), f"a kind of request never succeeded: {answered}")
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
