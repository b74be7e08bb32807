#!/usr/bin/env python3
"""Fault injection: slow clients (slowloris).

The service with REQUEST_TIMEOUT_SECONDS=3. SLOW connections each send a request's headers
one byte per second (one thread drives them all); meanwhile normal clients keep calling
/health/live and /api/v1/users/me.
Asserts: every normal request succeeds (200, none slower than NORMAL_BOUND_S) while the slow
connections are open; every slow connection is closed by the server (FIN or reset) no later
than REQUEST_TIMEOUT_SECONDS + CUT_MARGIN_S after its first byte, and none of them ever gets a
complete request through; SILENT connections that never send a byte are closed at
KEEPALIVE_TIMEOUT_SECONDS (the wait for a first request; + CUT_MARGIN_S); no crash.
Usage: tests/fault/slow_clients.py [binary] (exit 0 = pass)
"""
import http.client
import os
import selectors
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

SLOW = 500
SILENT = 100           # connections that never send a byte: bounded by the keep-alive timeout
REQUEST_TIMEOUT_S = 3
KEEPALIVE_TIMEOUT_S = 5
CUT_MARGIN_S = 3       # the server's timer, its 2 s graceful-close drain, and scheduling
NORMAL_BOUND_S = 5     # a normal request slower than this counts as starved (a hang)
HEADER = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64 + b"\r\n\r\n"


def main():
    checks = fl.Checks("slow_clients")
    svc = fl.Service(fl.binary_from_argv(), {"REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT_S),
                                             "KEEPALIVE_TIMEOUT_SECONDS": str(KEEPALIVE_TIMEOUT_S),
                                             "RATE_LIMIT_ENABLED": "false"})
    try:
        port = svc.port
        email = f"slow-{os.getpid()}@example.com"
        fl.register(port, email)
        auth = {"Authorization": "Bearer " + fl.token_for(port, email)}

        sel = selectors.DefaultSelector()
        conns = {}  # socket -> dict(first=t, sent=n, closed=t|None, data=bytes)
        for i in range(SLOW + SILENT):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            silent = i >= SLOW
            conns[s] = {"first": time.monotonic() if silent else None, "sent": 0, "closed": None,
                        "data": b"", "silent": silent}
            sel.register(s, selectors.EVENT_READ)
        print(f"  {SLOW} slow and {SILENT} silent connections open", flush=True)

        stop = threading.Event()
        normal = []  # (status|"error", seconds)

        def normal_client(path, headers):
            for _ in range(100_000):
                if stop.is_set():
                    break
                t = time.monotonic()
                try:
                    st = fl.call(port, "GET", path, headers=headers, timeout=10)[0]
                except (OSError, http.client.HTTPException):
                    st = "error"
                normal.append((st, time.monotonic() - t))
                time.sleep(0.05)

        workers = [threading.Thread(target=normal_client, args=("/health/live", {}), daemon=True),
                   threading.Thread(target=normal_client, args=("/api/v1/users/me", auth),
                                    daemon=True)]
        for w in workers:
            w.start()

        t0 = time.monotonic()
        next_tick = t0
        deadline = t0 + max(REQUEST_TIMEOUT_S, KEEPALIVE_TIMEOUT_S) + CUT_MARGIN_S + 6
        while time.monotonic() < deadline and any(c["closed"] is None for c in conns.values()):
            now = time.monotonic()
            if now >= next_tick:  # one byte per second on every open connection
                next_tick += 1.0
                for s, c in conns.items():
                    if c["closed"] is not None or c["silent"] or c["sent"] >= len(HEADER):
                        continue
                    try:
                        s.send(HEADER[c["sent"]:c["sent"] + 1])
                        c["sent"] += 1
                        if c["first"] is None:
                            c["first"] = time.monotonic()
                    except BlockingIOError:
                        pass
                    except OSError:
                        c["closed"] = time.monotonic()
                        sel.unregister(s)
            for key, _ in sel.select(timeout=max(0.0, min(0.1, next_tick - time.monotonic()))):
                s = key.fileobj
                c = conns[s]
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                c["data"] += chunk
                if not chunk:
                    c["closed"] = time.monotonic()
                    sel.unregister(s)
        attack_end = time.monotonic()
        time.sleep(1.0)  # normal clients keep going a moment after the cut
        stop.set()
        for w in workers:
            w.join(15)
        for s in conns:
            s.close()

        cut = [c["closed"] - c["first"] for c in conns.values()
               if c["closed"] is not None and c["first"] is not None and not c["silent"]]
        silent_cut = [c["closed"] - c["first"] for c in conns.values()
                      if c["closed"] is not None and c["silent"]]
        still_open = sum(1 for c in conns.values() if c["closed"] is None)
        answered = sum(1 for c in conns.values() if c["data"].startswith(b"HTTP/1.1 200"))
        slow_sent = max(c["sent"] for c in conns.values())
        ok_normal = sum(1 for n in normal if n[0] == 200)
        slowest = max((n[1] for n in normal), default=0)
        print(f"slow connections: {SLOW}; closed by the server: {len(cut)} after "
              f"min {min(cut, default=0):.2f}s / median {statistics.median(cut) if cut else 0:.2f}s "
              f"/ max {max(cut, default=0):.2f}s from their first byte (REQUEST_TIMEOUT_SECONDS="
              f"{REQUEST_TIMEOUT_S}); still open: {still_open}; got a 200: {answered}; bytes "
              f"sent per connection: {slow_sent}")
        print(f"silent connections: {SILENT}; closed after min {min(silent_cut, default=0):.2f}s / "
              f"max {max(silent_cut, default=0):.2f}s (KEEPALIVE_TIMEOUT_SECONDS="
              f"{KEEPALIVE_TIMEOUT_S})")
        print(f"normal requests during the attack ({attack_end - t0:.1f}s): {len(normal)}, "
              f"{ok_normal} x 200, slowest {slowest * 1000:.0f} ms", flush=True)
        checks.check(still_open == 0, f"every slow connection closed ({still_open} still open)")
        checks.check(len(cut) == SLOW and max(cut) <= REQUEST_TIMEOUT_S + CUT_MARGIN_S,
                     f"slow connections cut within REQUEST_TIMEOUT_SECONDS + {CUT_MARGIN_S}s")
        checks.check(min(cut, default=0) >= REQUEST_TIMEOUT_S - 0.5,
                     "slow connections not cut before the timeout")
        checks.check(answered == 0, "no slow request completed")
        checks.check(len(silent_cut) == SILENT and
                     KEEPALIVE_TIMEOUT_S - 0.5 <= min(silent_cut) and
                     max(silent_cut) <= KEEPALIVE_TIMEOUT_S + CUT_MARGIN_S,
                     "silent connections closed at KEEPALIVE_TIMEOUT_SECONDS (+ margin)")
        checks.check(len(normal) > 20 and ok_normal == len(normal),
                     f"normal clients served throughout ({ok_normal}/{len(normal)})")
        checks.check(slowest <= NORMAL_BOUND_S, f"no normal request slower than {NORMAL_BOUND_S}s")
        checks.service_ends_cleanly(svc)
        return checks.report()
    finally:
        svc.stop()


if __name__ == "__main__":
    sys.exit(main())
