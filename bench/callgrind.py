#!/usr/bin/env python3
"""Instructions per request (valgrind --tool=callgrind), the steadiest cost figure on a shared
machine: the service runs under callgrind on PostgreSQL with one I/O thread, collection is
counted while coroutines run (see below), and each kind of request is sent N1 and then N2 times over one
keep-alive connection, each time in a new process; the slope (Ir(N2) - Ir(N1)) / (N2 - N1) is
the cost of one request, free of the fixed costs (start-up, warm-up, shutdown).

Usage: bench/callgrind.py BINARY [KIND...]   (kinds: live, me, get_user, get_missing,
unknown_route; all by default). Environment: N1 (200), N2 (1000), PG_TEST_STATE (a throwaway
cluster is started in a temporary folder unless BENCH_PG_URL is set), CALLGRIND_SCOPE (`all`:
count every instruction of the process, not only inside coroutines).
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "lib"))
import procs  # noqa: E402

N1 = int(os.environ.get("N1", "200"))
N2 = int(os.environ.get("N2", "1000"))
SECRET = "bench-jwt-secret-bench-jwt-secret-bench-jwt-secret"
EMAIL = "callgrind@bench.example.com"
PASSWORD = "callgrind-password-0001"


def env(url, **extra):
    e = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "ENVIRONMENT": "production",
         "HOST": "127.0.0.1", "DATABASE_URL": url, "JWT_SECRET": SECRET, "LOG_LEVEL": "info",
         "RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_PER_MINUTE": "1000000",
         "LOGIN_RATE_LIMIT_PER_MINUTE": "1000000", "WORKERS": "1"}
    e.update(extra)
    return e


def token(binary, url, work):
    """A bearer token and the user's id, from a normal (not instrumented) run: a login costs an
    argon2id hash, far too slow under valgrind."""
    subprocess.run([binary, "migrate"], env=env(url), check=True, capture_output=True)
    subprocess.run([binary, "create-admin", "--email", EMAIL, "--name", "Callgrind"],
                   env=dict(env(url), ADMIN_PASSWORD=PASSWORD), capture_output=True)
    port = procs.free_port()
    with open(os.path.join(work, "login.log"), "ab") as log:
        proc = procs.spawn([binary, "serve"], env=dict(env(url), PORT=str(port)), stdout=log,
                           stderr=subprocess.STDOUT)
    try:
        procs.wait_ready(port, proc)
        body = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD})
        status, data = procs.http_call(port, "POST", "/api/v1/auth/token", body,
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, data
        tok = json.loads(data)["access_token"]
        status, data = procs.http_get(port, "/api/v1/users/me", {"Authorization": "Bearer " + tok})
        assert status == 200, data
        return tok, json.loads(data)["id"]
    finally:
        procs.stop(proc)


def requests_of(kind, tok, user_id):
    auth = {"Authorization": "Bearer " + tok}
    if kind == "live":
        return lambda: ("/health/live", {}), 200
    if kind == "me":
        return lambda: ("/api/v1/users/me", auth), 200
    if kind == "get_user":
        return lambda: ("/api/v1/users/" + user_id, auth), 200
    if kind == "get_missing":
        return lambda: ("/api/v1/users/" + str(uuid.uuid4()), auth), 404
    if kind == "unknown_route":
        return lambda: ("/api/v1/nothing-here", {}), 404
    raise SystemExit(f"unknown kind {kind}")


def send(port, make, expected, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        for _ in range(n):
            path, headers = make()
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            r.read()
            if r.status != expected:
                raise RuntimeError(f"{path} answered {r.status}, expected {expected}")
    finally:
        c.close()


def instructions(binary, url, work, kind, n, tok, user_id):
    out = os.path.join(work, f"callgrind.{kind}.{n}")
    port = procs.free_port()
    with open(os.path.join(work, f"service.{kind}.{n}.log"), "ab") as log:
        # By default only while coroutines run (every request's work, wherever it suspends): not
        # the idle loop, timers' wake-ups or the log thread, which grow with the run's wall time,
        # slow under valgrind. A coroutine started inside another one (co_spawn dispatching at
        # once) toggles collection off for its run, so CALLGRIND_SCOPE=all counts everything,
        # for comparing binaries that spawn differently.
        scope = [] if os.environ.get("CALLGRIND_SCOPE") == "all" else [
            "--toggle-collect=*awaitable_thread*pump*"]
        proc = procs.spawn(["valgrind", "--tool=callgrind", *scope,
                            f"--callgrind-out-file={out}", binary, "serve"],
                           env=dict(env(url), PORT=str(port)), stdout=log, stderr=log)
    try:
        procs.wait_ready(port, proc, timeout=300, interval=0.2)
        make, expected = requests_of(kind, tok, user_id)
        send(port, make, expected, 50)  # warm-up: connections, prepared statements, caches
        send(port, make, expected, n)
    finally:
        procs.stop(proc, timeout=120)
    total = 0
    for name in os.listdir(work):  # one file per thread with --separate-threads; one otherwise
        if name.startswith(os.path.basename(out)):
            with open(os.path.join(work, name)) as f:
                for line in f:
                    if line.startswith("summary:") or line.startswith("totals:"):
                        total = max(total, int(line.split()[1]))
    return total


def main():
    binary = os.path.abspath(sys.argv[1])
    kinds = sys.argv[2:] or ["live", "me", "get_user", "get_missing", "unknown_route"]
    work = tempfile.mkdtemp(prefix="user-service-callgrind.")
    url = os.environ.get("BENCH_PG_URL")
    started = False
    if not url:
        os.environ.setdefault("PG_TEST_STATE", os.path.join(work, "pg"))
        subprocess.run(["bash", os.path.join(ROOT, "scripts/pg-test-server.sh"), "start"],
                       check=True, capture_output=True)
        started = True
        url = subprocess.run(["bash", os.path.join(ROOT, "scripts/pg-test-server.sh"), "url"],
                             check=True, capture_output=True, text=True).stdout.strip()
    try:
        tok, user_id = token(binary, url, work)
        for kind in kinds:
            a = instructions(binary, url, work, kind, N1, tok, user_id)
            b = instructions(binary, url, work, kind, N2, tok, user_id)
            print(f"{kind}: {(b - a) / (N2 - N1):,.0f} instructions per request "
                  f"(Ir {a:,} for {N1}, {b:,} for {N2})", flush=True)
    finally:
        if started:
            subprocess.run(["bash", os.path.join(ROOT, "scripts/pg-test-server.sh"), "stop"],
                           capture_output=True)


if __name__ == "__main__":
    main()
