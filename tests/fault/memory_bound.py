#!/usr/bin/env python3
"""Fault injection: the memory a request can make the server hold is bounded (Python 3 stdlib).

Two attacks Boost's parser does not bound by itself, each offered over one raw connection as
fast as the server reads it: a chunk extension that never ends (`1;a=` then 64 MiB) and a
trailer section that never ends (32 MiB). The server's RSS (VmRSS of /proc/PID/status) is read
before and, at most, after each attack (sampled while the bytes go out); its growth must stay
within a few MiB: the limit is the header limit, not what the client sends. The server must
answer 431 or 400 (or close) and go on serving other clients.
"""
import socket
import sys
import threading

import faultlib as fl

MIB = 1024 * 1024
ALLOWED_GROWTH_KIB = 8 * 1024  # a memory bound, not a timing threshold
HEAD = b"POST /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def attack(svc, prefix, filler_mib):
    """Sends `prefix` then `filler_mib` MiB of filler, never the end of line; returns the peak
    RSS growth in KiB seen while sending and the first bytes the server answered."""
    before = fl.rss_kib(svc.pid)
    peak = before
    received = bytearray()
    s = socket.create_connection(("127.0.0.1", svc.port), timeout=10)

    def read_answer():  # concurrently: a reset after the answer must not lose it
        try:
            while True:
                data = s.recv(4096)
                if not data:
                    return
                received.extend(data)
        except OSError:
            return

    reader = threading.Thread(target=read_answer, daemon=True)
    reader.start()
    sent = 0
    try:
        s.sendall(HEAD + prefix)
        block = b"a" * (256 * 1024)
        while sent < filler_mib * MIB:
            try:
                s.sendall(block)
            except OSError:
                break  # the server stopped reading: it answered or closed
            sent += len(block)
            if sent % (4 * MIB) == 0:
                peak = max(peak, fl.rss_kib(svc.pid))
        peak = max(peak, fl.rss_kib(svc.pid))
        reader.join(timeout=5)
    finally:
        s.close()
        reader.join(timeout=5)
    answer = bytes(received)
    return peak - before, sent, answer


def main():
    checks = fl.Checks("memory_bound")
    svc = fl.Service(fl.binary_from_argv(), {"RATE_LIMIT_ENABLED": "false",
                                             "REQUEST_TIMEOUT_SECONDS": "60"})
    try:
        for name, prefix, mib in (("chunk extension", b"1;a=", 64),
                                  ("trailer section", b"1\r\nx\r\n0\r\nX-Filler: ", 32)):
            growth, sent, answer = attack(svc, prefix, mib)
            status = answer[9:12].decode("ascii", "replace") if answer.startswith(b"HTTP/") else ""
            print(f"  {name}: offered {mib} MiB, the server read about {sent // MIB} MiB before it "
                  f"stopped reading; RSS growth {growth} KiB; answer {status or 'none'}",
                  flush=True)
            checks.check(growth <= ALLOWED_GROWTH_KIB,
                         f"{name}: RSS grew {growth} KiB (limit {ALLOWED_GROWTH_KIB} KiB)")
            checks.check(status in ("431", "400"), f"{name}: answered 431 or 400 (got {answer[:60]!r})")
        s, _, _ = fl.call(svc.port, "GET", "/health/live")
        checks.check(s == 200, f"the server still answers (got {s})")
        checks.service_ends_cleanly(svc)
        return checks.report()
    finally:
        svc.stop()


if __name__ == "__main__":
    sys.exit(main())
