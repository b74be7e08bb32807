#!/usr/bin/env python3
"""Fault injection: database pool overload.

A private PostgreSQL; the service with DATABASE_POOL_SIZE=2, DATABASE_POOL_MAX_OVERFLOW=0 and
DATABASE_POOL_TIMEOUT_SECONDS=1. Each burst fires 200 concurrent GET /api/v1/users/me (valid
tokens: every one needs a database round trip) while /health/live is probed every 50 ms.
  1. "blocked": psql holds an exclusive lock on `users` for LOCK_S seconds, so the two pooled
     connections hang on it and everything else waits for a connection: 200 for the two, 503
     + Retry-After for those that wait longer than the pool timeout.
  2. "open": the same burst with nothing blocking: 200 (or 503 if a queue wait exceeds 1 s).
  3. "statement timeout": a second service with DATABASE_STATEMENT_TIMEOUT_MS=500 against the
     same lock: queries cancelled by the server must come back as 503, not 500.
Asserts, for every request: answered (no client timeout at BOUND_S, no dropped connection),
status 200 or 503, every 503 with Retry-After and the envelope; /health/live 200 throughout;
no crash, no unhandled_exception.
Usage: tests/fault/overload.py [binary] (exit 0 = pass)
"""
import http.client
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

CONCURRENCY = 200
LOCK_S = 3
BOUND_S = 20  # a request not answered within this is a hang


def burst(port, tokens, n):
    """n concurrent GET /me released together; returns [(status|"error:…", seconds, headers,
    body)]."""
    results = [None] * n
    gate = threading.Barrier(n + 1)

    def one(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=BOUND_S)
        try:
            conn.connect()
            gate.wait(30)
            t = time.monotonic()
            s, h, body = fl.call(port, "GET", "/api/v1/users/me",
                                 headers={"Authorization": "Bearer " + tokens[i % len(tokens)]},
                                 conn=conn)
            results[i] = (s, time.monotonic() - t, h, body)
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as e:
            results[i] = ("error:" + type(e).__name__, 0.0, {}, b"")
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    gate.wait(30)
    for t in threads:
        t.join(BOUND_S + 10)
    return [r if r else ("error:unfinished", 0.0, {}, b"") for r in results]


class LiveProber:
    def __init__(self, port):
        self.port, self.results, self.stop = port, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        for _ in range(100_000):
            if self.stop.is_set():
                break
            t = time.monotonic()
            try:
                s = fl.call(self.port, "GET", "/health/live", timeout=BOUND_S)[0]
            except (OSError, http.client.HTTPException) as e:
                s = "error:" + type(e).__name__
            self.results.append((s, time.monotonic() - t))
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.thread.join(BOUND_S + 5)
        return self.results


def lock_users(url, seconds):
    return subprocess.Popen(["psql", url, "-q", "-c", "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE "
                             f"MODE; SELECT pg_sleep({seconds}); COMMIT;"],
                            stdout=subprocess.DEVNULL)


def judge(checks, name, results, live):
    by = {}
    for r in results:
        by[r[0]] = by.get(r[0], 0) + 1
    slowest = max(r[1] for r in results)
    live_slowest = max((l[1] for l in live), default=0)
    print(f"{name}: {len(results)} requests, by status {by}, slowest {slowest:.2f}s; "
          f"/health/live {len(live)} probes, {sum(1 for l in live if l[0] == 200)} x 200, "
          f"slowest {live_slowest * 1000:.0f} ms", flush=True)
    checks.check(set(by) <= {200, 503}, f"{name}: only 200 or 503 (got {by})")
    bad = [r for r in results if r[0] == 503 and (
        not r[2].get("retry-after") or fl.envelope_code(r[3]) != "SERVICE_UNAVAILABLE")]
    checks.check(not bad, f"{name}: every 503 has Retry-After and the envelope ({len(bad)} not)")
    checks.check(live and all(l[0] == 200 for l in live), f"{name}: /health/live 200 throughout")
    return by


def start_service(binary, url, extra):
    env = {"DATABASE_URL": url, "RATE_LIMIT_ENABLED": "false", "DATABASE_POOL_SIZE": "2",
           "DATABASE_POOL_MAX_OVERFLOW": "0", "DATABASE_POOL_TIMEOUT_SECONDS": "1",
           "DATABASE_STATEMENT_TIMEOUT_MS": "10000", "MIGRATE_ON_START": "true"}
    env.update(extra)
    return fl.Service(binary, env)


def main():
    checks = fl.Checks("overload")
    binary = fl.binary_from_argv()
    pg = fl.TestServer("pg")
    services = []
    try:
        svc = start_service(binary, pg.url, {})
        services.append(svc)
        tokens = []
        for i in range(5):
            email = f"overload{i}-{os.getpid()}@example.com"
            fl.register(svc.port, email)
            tokens.append(fl.token_for(svc.port, email))

        live = LiveProber(svc.port)
        locker = lock_users(pg.url, LOCK_S)
        time.sleep(0.5)  # the lock is held before the burst
        blocked = burst(svc.port, tokens, CONCURRENCY)
        locker.wait(30)
        by = judge(checks, "blocked pool", blocked, live.finish())
        checks.check(by.get(503, 0) > 0, "blocked pool: requests that cannot get a connection "
                                         "in time get 503")

        live = LiveProber(svc.port)
        by = judge(checks, "open pool", burst(svc.port, tokens, CONCURRENCY), live.finish())
        checks.check(by.get(200, 0) > 0, "open pool: requests served")

        svc2 = start_service(binary, pg.url, {"DATABASE_STATEMENT_TIMEOUT_MS": "500",
                                              "DATABASE_POOL_TIMEOUT_SECONDS": "5"})
        services.append(svc2)
        live = LiveProber(svc2.port)
        locker = lock_users(pg.url, LOCK_S)
        time.sleep(0.5)
        timed_out = burst(svc2.port, tokens, 20)
        locker.wait(30)
        by = judge(checks, "statement timeout", timed_out, live.finish())
        checks.check(by.get(503, 0) > 0, "statement timeout: cancelled queries answered 503")

        for s in services:
            checks.service_ends_cleanly(s, f"service on port {s.port}")
        return checks.report()
    finally:
        for s in services:
            s.stop()
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
