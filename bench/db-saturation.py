#!/usr/bin/env python3
"""Shows that no I/O thread blocks on the database (issue: data layer).

Starts a private PostgreSQL cluster and the service with a pool of 2 (+1 overflow), locks the
users table from psql so every /api/v1/users/me query waits, saturates the pool with 48
concurrent such requests, and meanwhile measures GET /health/live latency. Also samples the
server connections in pg_stat_activity. Bounded: every loop has a count and a deadline.
Usage: bench/db-saturation.py [path/to/user-service]
"""
import http.client, json, os, re, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "user-service")
state = tempfile.mkdtemp(prefix="us-bench-pg.")
env_pg = dict(os.environ, PG_TEST_STATE=state)
script = os.path.join(ROOT, "scripts", "pg-test-server.sh")
url = subprocess.run(["bash", script, "start"], env=env_pg, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
svc = None
try:
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "HOST": "127.0.0.1", "PORT": "0",
           "DATABASE_URL": url, "DATABASE_POOL_SIZE": "2", "DATABASE_POOL_MAX_OVERFLOW": "1",
           "DATABASE_POOL_TIMEOUT_SECONDS": "8", "DATABASE_STATEMENT_TIMEOUT_MS": "10000",
           "JWT_SECRET": "bench-secret-bench-secret-bench-secret-0000", "WORKERS": "2"}
    svc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    port = None
    deadline = time.time() + 30
    while port is None and time.time() < deadline:
        line = svc.stdout.readline()
        m = re.search(r'"event":"service_started".*"port":(\d+)', line)
        if m:
            port = int(m.group(1))
    assert port, "service did not start"
    threading.Thread(target=lambda: [None for _ in svc.stdout], daemon=True).start()

    def call(method, path, body=None, headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    s, _ = call("POST", "/api/v1/users/", json.dumps({"email": "sat@example.com", "name": "Sat", "password": "saturation-pw"}), {"Content-Type": "application/json"})
    assert s == 201, s
    s, data = call("POST", "/api/v1/auth/token", "username=sat%40example.com&password=saturation-pw", {"Content-Type": "application/x-www-form-urlencoded"})
    assert s == 200, s
    token = json.loads(data)["access_token"]

    # Hold an exclusive lock on users for 6 s: every query on it waits (well under the 10 s statement timeout).
    locker = subprocess.Popen(["psql", url, "-q", "-c", "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    statuses = []
    def me():
        try:
            statuses.append(call("GET", "/api/v1/users/me", headers={"Authorization": "Bearer " + token})[0])
        except Exception as e:  # noqa: BLE001 - reported below
            statuses.append(repr(e))
    workers = [threading.Thread(target=me) for _ in range(48)]
    for w in workers:
        w.start()
    time.sleep(0.3)
    lat, conns = [], []
    end = time.time() + 4
    for _ in range(2000):
        if time.time() > end:
            break
        t0 = time.perf_counter()
        s, _ = call("GET", "/health/live", timeout=5)
        lat.append((time.perf_counter() - t0) * 1000)
        assert s == 200
        if len(lat) % 50 == 0:
            n = subprocess.run(["psql", url, "-tA", "-c", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'user-service'"], capture_output=True, text=True).stdout.strip()
            conns.append(int(n))
    for w in workers:
        w.join(30)
    locker.wait(30)
    lat.sort()
    print(f"/health/live while the pool (2+1) was saturated by 48 blocked /users/me requests:")
    print(f"  n={len(lat)} median={statistics.median(lat):.2f} ms p99={lat[int(len(lat)*0.99)-1]:.2f} ms max={lat[-1]:.2f} ms")
    print(f"  server connections seen (pg_stat_activity, user-service): max={max(conns) if conns else 'n/a'} samples={len(conns)}")
    print(f"  /users/me outcomes after the lock was released: " + ", ".join(f"{k} x{list(map(str, statuses)).count(k)}" for k in sorted(set(map(str, statuses)))))
finally:
    if svc:
        svc.terminate()
        try:
            svc.wait(15)
        except subprocess.TimeoutExpired:
            svc.kill()
    subprocess.run(["bash", script, "stop"], env=env_pg)
