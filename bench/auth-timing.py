#!/usr/bin/env python3
"""Auth measurements at the default argon2id cost (rate limiting off: these are timings):
1. login timing: median response time for an unknown email vs a wrong password (goal: < 20% apart);
2. password reset request timing: the 202 for a registered vs an unregistered address, interleaved
   (the lookup and the email happen after the answer; docs/account-emails.md);
3. /health/live latency while 32 registrations are being hashed at once (hashing is off the I/O threads).
Bounded loops; traffic only to 127.0.0.1. Usage: bench/auth-timing.py [path/to/user-service]
"""
import http.client, json, os, re, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "user-service")
work = tempfile.mkdtemp(prefix="us-bench-auth.")
env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "HOST": "127.0.0.1", "PORT": "0",
       "DATABASE_URL": f"sqlite:///{work}/users.db", "JWT_SECRET": "bench-secret-bench-secret-bench-secret-0000",
       "RATE_LIMIT_ENABLED": "false"}
svc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.PIPE, text=True)
try:
    port, deadline = None, time.time() + 30
    while port is None and time.time() < deadline:
        m = re.search(r'"event":"service_started".*"port":(\d+)', svc.stdout.readline())
        port = int(m.group(1)) if m else None
    threading.Thread(target=lambda: [None for _ in svc.stdout], daemon=True).start()

    def call(method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.perf_counter()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse(); r.read(); c.close()
        return r.status, (time.perf_counter() - t0) * 1000

    jh = {"Content-Type": "application/json"}
    fh = {"Content-Type": "application/x-www-form-urlencoded"}
    assert call("POST", "/api/v1/users/", json.dumps({"email": "known@example.com", "name": "K", "password": "the-right-password"}), jh)[0] == 201
    unknown, wrong = [], []
    for i in range(40):
        s1, t1 = call("POST", "/api/v1/auth/token", f"username=nobody{i}%40example.com&password=whatever-pw", fh)
        s2, t2 = call("POST", "/api/v1/auth/token", "username=known%40example.com&password=not-the-password", fh)
        assert s1 == 401 and s2 == 401, (s1, s2)
        unknown.append(t1); wrong.append(t2)
    mu, mw = statistics.median(unknown), statistics.median(wrong)
    print(f"login 401 median: unknown email {mu:.1f} ms, wrong password {mw:.1f} ms, difference {abs(mu - mw) / max(mu, mw) * 100:.1f}% (n=40 each)")

    registered, unregistered = [], []
    for i in range(200):
        s1, t1 = call("POST", "/api/v1/auth/password-reset/request", json.dumps({"email": "known@example.com"}), jh)
        s2, t2 = call("POST", "/api/v1/auth/password-reset/request", json.dumps({"email": f"nobody{i}@example.com"}), jh)
        assert s1 == 202 and s2 == 202, (s1, s2)
        registered.append(t1); unregistered.append(t2)
    mr, mu2 = statistics.median(registered), statistics.median(unregistered)
    print(f"password reset request 202 median: registered {mr:.3f} ms, unregistered {mu2:.3f} ms, difference {abs(mr - mu2) / max(mr, mu2) * 100:.1f}% (n=200 each)")

    done = threading.Event()
    def register(i):
        call("POST", "/api/v1/users/", json.dumps({"email": f"load{i}@example.com", "name": "L", "password": "hashing-load-pw"}), jh)
    threads = [threading.Thread(target=register, args=(i,)) for i in range(32)]
    t_start = time.perf_counter()
    for t in threads: t.start()
    lat = []
    for _ in range(1000):
        if not any(t.is_alive() for t in threads): break
        lat.append(call("GET", "/health/live")[1])
        time.sleep(0.005)
    for t in threads: t.join(60)
    total = (time.perf_counter() - t_start) * 1000
    lat.sort()
    print(f"32 concurrent registrations took {total:.0f} ms; /health/live meanwhile: n={len(lat)} median={statistics.median(lat):.2f} ms p95={lat[int(len(lat)*0.95)-1]:.2f} ms max={lat[-1]:.2f} ms")
finally:
    svc.terminate(); svc.wait(15)
