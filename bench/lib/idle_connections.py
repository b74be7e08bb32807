#!/usr/bin/env python3
"""Opens N keep-alive connections to a local HTTP server, sends one GET on each (so each is a
real kept-alive connection waiting for its next request), and holds them open.

Bounded: at most `in_flight` handshakes at a time, an overall deadline, and N itself is capped.
Raises RLIMIT_NOFILE for this process as far as the hard limit allows.
Usage (standalone): idle_connections.py PORT [N=10000] [HOLD_SECONDS=5]
"""
import errno
import resource
import selectors
import socket
import sys
import time

MAX_CONNECTIONS = 50_000


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _response_complete(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return True


def open_idle(port, n, path="/health/live", in_flight=256, timeout=120.0):
    """Returns (sockets, failures): `sockets` have each completed one request and stay open."""
    n = min(n, MAX_CONNECTIONS)
    limit = raise_fd_limit(n + 256)
    if limit < n + 64:
        raise RuntimeError(f"RLIMIT_NOFILE is {limit}, need {n + 64}")
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    opened, failures, started = [], 0, 0
    pending = {}  # socket -> bytes received so far
    deadline = time.monotonic() + timeout
    while (started < n or pending) and time.monotonic() < deadline:
        while started < n and len(pending) < in_flight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex(("127.0.0.1", port))
            started += 1
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                failures += 1
                continue
            pending[s] = None  # None: connecting
            sel.register(s, selectors.EVENT_WRITE)
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                if pending[s] is None:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect failed")
                    s.sendall(request)
                    pending[s] = b""
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed by the server")
                pending[s] += chunk
                if _response_complete(pending[s]):
                    sel.unregister(s)
                    del pending[s]
                    opened.append(s)
            except OSError:
                sel.unregister(s)
                del pending[s]
                s.close()
                failures += 1
    for s in list(pending):
        sel.unregister(s)
        s.close()
        failures += 1
    sel.close()
    return opened, failures + (n - started)


def close_all(sockets):
    for s in sockets:
        s.close()


if __name__ == "__main__":
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    hold = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    t0 = time.monotonic()
    socks, failed = open_idle(port, count)
    print(f"open={len(socks)} failed={failed} in {time.monotonic() - t0:.1f} s; holding {hold} s")
    time.sleep(min(hold, 600))
    close_all(socks)
