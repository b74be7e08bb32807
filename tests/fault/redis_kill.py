#!/usr/bin/env python3
"""Fault injection: Redis killed (SIGKILL) during load, then restarted.

A private Redis; the service on SQLite with REDIS_URL set and rate limiting on, under a load of
GET /api/v1/users/me. Run twice, once per RATE_LIMIT_FAIL_OPEN:
  true  → every request still 200 while Redis is down, `rate_limit_backend_unavailable` logged
          at most once per warning interval (60 s: once per outage here);
  false → 503 SERVICE_UNAVAILABLE envelope with Retry-After while down.
Both: readiness 503 "degraded" with a `redis` check error (no password in it) while down,
/health/live 200 throughout, no request hangs (client timeout 10 s), no crash, and after the
restart readiness 200 and limits enforced again (RateLimit headers back on 200s).
Usage: tests/fault/redis_kill.py [binary] (exit 0 = pass)
"""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

CLIENTS = 4
UP_S = 2.0
DOWN_S = 4.0


def run_phase(checks, binary, redis, fail_open):
    name = f"fail_open={str(fail_open).lower()}"
    svc = fl.Service(binary, {"REDIS_URL": redis.url, "RATE_LIMIT_PER_MINUTE": "1000000",
                              "LOGIN_RATE_LIMIT_PER_MINUTE": "1000000",
                              "RATE_LIMIT_FAIL_OPEN": str(fail_open).lower()})
    try:
        port = svc.port
        checks.check(fl.wait_status(port, "/health/ready", 200, 10) == 200,
                     f"{name}: ready with Redis up")
        email = f"redis-{os.getpid()}-{int(fail_open)}@example.com"
        checks.check(fl.register(port, email)[0] == 201, f"{name}: registered")
        token = fl.token_for(port, email)
        auth = {"Authorization": "Bearer " + token}
        lock = threading.Lock()
        results = []  # (start, end, status|"error", headers, body)
        live = []     # (start, end, status|"error")
        stop = threading.Event()
        t0 = time.monotonic()

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for _ in range(1_000_000):
                if stop.is_set():
                    break
                t = time.monotonic() - t0
                try:
                    s, h, body = fl.call(port, "GET", "/api/v1/users/me", headers=auth, conn=conn)
                except (OSError, http.client.HTTPException):
                    s, h, body = "error", {}, b""
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                with lock:
                    results.append((t, time.monotonic() - t0, s, h, body))
                time.sleep(0.005)
            conn.close()

        def prober():
            for _ in range(100_000):
                if stop.is_set():
                    break
                t = time.monotonic() - t0
                try:
                    s = fl.call(port, "GET", "/health/live", timeout=10)[0]
                except (OSError, http.client.HTTPException):
                    s = "error"
                live.append((t, time.monotonic() - t0, s))
                time.sleep(0.1)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        threads.append(threading.Thread(target=prober, daemon=True))
        for t in threads:
            t.start()
        time.sleep(UP_S)
        warnings_before = len(svc.events("rate_limit_backend_unavailable"))
        down_at = time.monotonic() - t0
        redis.kill9()
        time.sleep(DOWN_S / 2)
        ready = fl.call(port, "GET", "/health/ready", timeout=5)
        time.sleep(DOWN_S / 2)
        up_at = time.monotonic() - t0
        warnings = len(svc.events("rate_limit_backend_unavailable")) - warnings_before
        redis.resume()
        rs = fl.wait_status(port, "/health/ready", 200, 20)
        recovered = time.monotonic() - t0
        time.sleep(UP_S)
        stop.set()
        for t in threads:
            t.join(20)

        before = [r for r in results if r[1] < down_at]
        during = [r for r in results if r[0] >= down_at + 0.3 and r[1] <= up_at]
        after = [r for r in results if r[0] >= recovered]
        by = {}
        for r in results:
            by[r[2]] = by.get(r[2], 0) + 1
        during_by = {}
        for r in during:
            during_by[r[2]] = during_by.get(r[2], 0) + 1
        slowest = max(r[1] - r[0] for r in results)
        print(f"{name}: {len(results)} requests, by status {by}; while down {len(during)}: "
              f"{during_by}; warnings logged while down: {warnings}; slowest answer "
              f"{slowest:.2f}s; ready again {recovered - up_at:.2f}s after the restart; "
              f"/health/live {len(live)} probes, {sum(1 for l in live if l[2] == 200)} x 200",
              flush=True)

        checks.check(all(r[2] == 200 for r in before), f"{name}: 200s before the outage")
        checks.check("error" not in by, f"{name}: no dropped connection or client timeout")
        checks.check(len(during) > 0, f"{name}: requests made while Redis was down")
        if fail_open:
            checks.check(set(during_by) == {200}, f"{name}: all 200 while down ({during_by})")
            checks.check(warnings == 1, f"{name}: warning logged once per interval (got {warnings})")
        else:
            checks.check(set(during_by) == {503}, f"{name}: all 503 while down ({during_by})")
            bad = [r for r in during if not r[3].get("retry-after")
                   or fl.envelope_code(r[4]) != "SERVICE_UNAVAILABLE"]
            checks.check(not bad, f"{name}: every 503 has Retry-After and the envelope")
        s, _, body = ready
        doc = json.loads(body)
        rc = doc.get("checks", {}).get("redis", {})
        checks.check(s == 503 and doc.get("status") == "degraded" and rc.get("status") == "error"
                     and rc.get("message"), f"{name}: readiness 503 degraded, redis error ({body!r})")
        checks.check(doc.get("checks", {}).get("database", {}).get("status") == "ok",
                     f"{name}: database check still ok")
        password = redis.state_vars()["PASSWORD"]
        checks.check(password not in body.decode(), f"{name}: no password in readiness")
        checks.check(all(not password in l for l in svc.lines), f"{name}: no password in logs")
        checks.check(all(l[2] == 200 for l in live), f"{name}: /health/live 200 throughout")
        checks.check(rs == 200, f"{name}: readiness 200 after the restart (got {rs})")
        checks.check(len(after) > 0 and all(r[2] == 200 and "ratelimit" in r[3] for r in after),
                     f"{name}: 200s with RateLimit headers after recovery "
                     f"({len(after)} requests, {sum(1 for r in after if r[2] == 200)} x 200)")
        checks.service_ends_cleanly(svc, name)
    finally:
        svc.stop()


def main():
    checks = fl.Checks("redis_kill")
    binary = fl.binary_from_argv()
    redis = fl.TestServer("redis")
    try:
        run_phase(checks, binary, redis, fail_open=True)
        run_phase(checks, binary, redis, fail_open=False)
        return checks.report()
    finally:
        redis.stop()


if __name__ == "__main__":
    sys.exit(main())
