#!/usr/bin/env python3
"""Soak: a bounded mixed load against the service on PostgreSQL + Redis, with RSS and open fd
count sampled from /proc/<pid> every --sample seconds. Not in CI (too long):
`make soak` runs it for 10 minutes.

Load: --concurrency keep-alive clients paced to --rate requests/s in total; each request is
80% GET /api/v1/users/me, 15% GET /api/v1/users/{own id}, 5% POST /api/v1/auth/token (argon2id
at the production cost by default, so the hash's 19 MiB buffers are part of what is soaked).

Pass (after --warmup seconds; RSS is read every 0.2 s, and each --sample interval keeps its
lowest and highest reading; early = the first 2 minutes of samples after warm-up, late = the
last 2 minutes; in a short run a third of the post-warm-up samples each):
  * RSS flat: the late floor (lowest reading) and the late ceiling (highest) are each within
    5% of the early ones, and the floor series does not rise monotonically. Why floor and
    ceiling rather than single readings: an argon2id hash holds a 19 MiB buffer while it runs,
    so single readings jump between a floor and floor + k x 19 MiB by chance; a leak lifts both;
  * fds do not grow: database and client sockets stay within what the settings allow (pool
    size + overflow; one per client), and all other fds (files, pipes, epoll, timers, the
    listener, Redis) are not more in the late window than up to the early one;
  * every request answered with its expected status (no 5xx, no transport error), no
    unhandled_exception, the process alive throughout and exiting 0 on SIGTERM.
Usage: tests/fault/soak.py [binary] [--duration 600] [--warmup 120] [--concurrency 8]
       [--rate 200] [--sample 10] [--cheap-hash]
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("binary", nargs="?", default=None)
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--warmup", type=float, default=120)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--rate", type=float, default=200, help="requests per second, in total")
    p.add_argument("--sample", type=float, default=10)
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--cheap-hash", action="store_true", help="minimal argon2id cost")
    a = p.parse_args()
    a.binary = a.binary or fl.binary_from_argv()
    return a


def flat_verdict(post, window):
    """RSS verdict on the post-warm-up samples (t, floor KiB, fds, peak KiB): the early window
    is the first `window` samples, the late one the last `window`. An argon2id hash holds a
    19 MiB buffer while it runs and the allocator may keep a freed one for a while, so single
    readings jump between a floor and floor + k x 19 MiB by chance; a leak lifts both the
    floor (lowest reading) and the ceiling (highest), so those are compared, early vs late."""
    early, late = post[:window], post[-window:]
    floor_early, floor_late = min(s[1] for s in early), min(s[1] for s in late)
    ceil_early, ceil_late = max(s[3] for s in early), max(s[3] for s in late)
    floors = [s[1] for s in post]
    steps = [b - a for a, b in zip(floors, floors[1:])]
    monotonic = all(d >= 0 for d in steps) and floors[-1] > floors[0] * 1.01
    ok = floor_late <= floor_early * 1.05 and ceil_late <= ceil_early * 1.05 and not monotonic
    return ok, {"floor_early": floor_early, "floor_late": floor_late, "ceil_early": ceil_early,
                "ceil_late": ceil_late, "monotonic": monotonic}


def main():
    a = parse_args()
    checks = fl.Checks("soak")
    pg = fl.TestServer("pg")
    redis = fl.TestServer("redis")
    svc = None
    try:
        env = {"DATABASE_URL": pg.url, "REDIS_URL": redis.url, "WORKERS": "2",
               "RATE_LIMIT_PER_MINUTE": "1000000", "LOGIN_RATE_LIMIT_PER_MINUTE": "1000000",
               "DATABASE_POOL_SIZE": "5", "DATABASE_POOL_MAX_OVERFLOW": "10",
               "MIGRATE_ON_START": "true"}
        if not a.cheap_hash:
            env.update({"PASSWORD_HASH_MEMORY_KIB": "19456", "PASSWORD_HASH_ITERATIONS": "2"})
        svc = fl.Service(a.binary, env)
        port = svc.port
        users = []
        for i in range(a.users):
            email = f"soak{i}-{os.getpid()}@example.com"
            s, _, body = fl.register(port, email)
            if s != 201:
                raise RuntimeError(f"registration failed: {s} {body[:200]!r}")
            uid = json.loads(body)["id"]
            users.append((email, uid, fl.token_for(port, email)))

        stop = threading.Event()
        lock = threading.Lock()
        counts = {}
        errors = []

        def worker(idx):
            rnd = random.Random(idx)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            interval = a.concurrency / a.rate
            next_t = time.monotonic() + rnd.random() * interval
            for _ in range(10_000_000):
                if stop.is_set():
                    break
                delay = next_t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_t += interval
                email, uid, token = users[rnd.randrange(len(users))]
                x = rnd.random()
                if x < 0.80:
                    kind, req = "me", ("GET", "/api/v1/users/me", None,
                                       {"Authorization": "Bearer " + token})
                elif x < 0.95:
                    kind, req = "get_user", ("GET", f"/api/v1/users/{uid}", None,
                                             {"Authorization": "Bearer " + token})
                else:
                    kind, req = "login", ("POST", "/api/v1/auth/token",
                                          f"username={email.replace('@', '%40')}"
                                          "&password=fault-password-1",
                                          {"Content-Type": "application/x-www-form-urlencoded"})
                try:
                    s, _, _ = fl.call(port, *req, conn=conn)
                    key = (kind, s)
                except (OSError, http.client.HTTPException) as e:
                    key = (kind, "error")
                    with lock:
                        errors.append(repr(e))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    counts[key] = counts.get(key, 0) + 1
            conn.close()

        threads = [threading.Thread(target=worker, args=(i,), daemon=True)
                   for i in range(a.concurrency)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        samples = []  # (t, lowest RSS KiB, fds, highest RSS KiB, fds by kind) per --sample interval
        peers = {int(pg.state_vars()["PORT"]): "postgres", int(redis.state_vars()["PORT"]): "redis"}
        print(f"soak: {a.duration:.0f} s, warm-up {a.warmup:.0f} s, {a.concurrency} clients, "
              f"{a.rate:.0f} req/s target, pid {svc.pid}", flush=True)
        reads = []
        for i in range(int(a.duration / 0.2) + 100):  # RSS read every 0.2 s
            if not svc.alive():
                break
            reads.append(fl.rss_kib(svc.pid))
            t = time.monotonic() - t0
            if t >= (len(samples) + 1) * a.sample or t >= a.duration:
                kinds = fl.fd_breakdown(svc.pid, peers)  # one snapshot: total = its sum
                samples.append((t, min(reads), sum(kinds.values()), max(reads), kinds))
                reads = []
                with lock:
                    done = sum(counts.values())
                print(f"  t={t:6.0f}s rss low {samples[-1][1] / 1024:6.1f} MiB, high "
                      f"{samples[-1][3] / 1024:6.1f} MiB; fds={samples[-1][2]:4d} {samples[-1][4]} "
                      f"requests={done}", flush=True)
            if t >= a.duration:
                break
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(40)
        elapsed = time.monotonic() - t0

        total = sum(counts.values())
        print(f"requests: {total} in {elapsed:.0f} s ({total / elapsed:.0f}/s)")
        for k in sorted(counts, key=str):
            print(f"  {k[0]:9s} {k[1]}: {counts[k]}")
        expected = {"me": 200, "get_user": 200, "login": 200}
        bad = {k: v for k, v in counts.items() if k[1] != expected[k[0]]}
        checks.check(not bad, f"every request answered as expected (unexpected: {bad}, "
                              f"first errors: {errors[:3]})")

        post = [s for s in samples if s[0] >= a.warmup]
        window = max(3, min(int(120 / a.sample), len(post) // 3))  # 2 minutes in a long run
        if checks.check(len(post) >= 2 * window,
                        f"at least {2 * window} post-warm-up samples (got {len(post)})"):
            ok, n = flat_verdict(post, window)
            print(f"RSS after warm-up ({len(post)} samples of {a.sample:.0f} s, windows of "
                  f"{window}): first sample low/high {post[0][1] / 1024:.1f}/"
                  f"{post[0][3] / 1024:.1f} MiB, last {post[-1][1] / 1024:.1f}/"
                  f"{post[-1][3] / 1024:.1f} MiB; floor early {n['floor_early'] / 1024:.1f} -> "
                  f"late {n['floor_late'] / 1024:.1f} MiB; ceiling early "
                  f"{n['ceil_early'] / 1024:.1f} -> late {n['ceil_late'] / 1024:.1f} MiB; "
                  f"floor monotonic={n['monotonic']}")
            print("RSS low series after warm-up (MiB): " +
                  " ".join(f"{s[1] / 1024:.1f}" for s in post))
            print("RSS high series after warm-up (MiB): " +
                  " ".join(f"{s[3] / 1024:.1f}" for s in post))
            checks.check(ok, "RSS flat after warm-up (late floor and ceiling within 5% of early)")
            # Pool overflow connections open under bursts and close when idle, and clients may
            # reconnect, so those sockets are checked against what the settings allow; every
            # other fd (files, pipes, epoll, timers, the listener, Redis) must not grow at all.
            def kind(smp, k):
                return smp[4].get(k, 0)
            fixed = [kind(s, "other") + kind(s, "listen") + kind(s, "redis") for s in samples]
            fixed_early = max(fixed[:len(samples) - len(post) + window])
            fixed_late = max(fixed[-window:])
            pg_max = max(kind(s, "postgres") + kind(s, "unlisted socket") for s in samples)
            in_max = max(kind(s, "inbound") for s in samples)
            print(f"fds: total first {samples[0][2]} -> last {samples[-1][2]}, max "
                  f"{max(s[2] for s in samples)}; without database and client sockets: max up to "
                  f"the early window {fixed_early}, in the late window {fixed_late}; database "
                  f"connections (+ sockets being opened) max {pg_max} (pool allows 15); client connections max {in_max} "
                  f"({a.concurrency} clients)")
            print("fds series: " + " ".join(str(s[2]) for s in samples))
            checks.check(fixed_late <= fixed_early,
                         f"fds other than database/client sockets do not grow ({fixed_late} <= "
                         f"{fixed_early})")
            checks.check(pg_max <= 15, "database connections within pool size + overflow")
            checks.check(in_max <= a.concurrency + 1, "client connections within the clients")
        checks.service_ends_cleanly(svc)
        return checks.report()
    finally:
        if svc:
            svc.stop()
        redis.stop()
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
