#!/usr/bin/env python3
"""Fault injection: a stalled stdout (README "Logging").

The service logs every request at info level to a pipe that this script stops reading, as a
log collector that hangs would. Then THREADS keep-alive clients send REQUESTS requests in all,
far more log bytes than the pipe and the log buffer hold.
Asserts: every request is answered (a blocked I/O thread would leave them waiting until the
client timeout); /metrics shows log_lines_dropped_total > 0 while stdout is stalled; once the
pipe is read again, `log_lines_dropped` warnings appear whose `dropped` fields add up to the
metric; the service exits cleanly.
Usage: tests/fault/stalled_stdout.py [binary] (exit 0 = pass)
"""
import http.client
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

THREADS = 4
REQUESTS = 32_000          # ~10 MB of request_completed lines; the buffer holds 4 MiB
CLIENT_TIMEOUT_S = 10      # a request unanswered this long counts as blocked


def dropped_metric(port):
    _, _, body = fl.call(port, "GET", "/metrics", timeout=CLIENT_TIMEOUT_S)
    m = re.search(rb"^log_lines_dropped_total (\S+)$", body, re.M)
    return float(m.group(1)) if m else None


def main():
    checks = fl.Checks("stalled_stdout")
    svc = fl.Service(fl.binary_from_argv(), {"RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "info"})
    try:
        port = svc.port
        checks.check(dropped_metric(port) == 0, "log_lines_dropped_total is 0 at start")
        svc.pause_stdout()
        results = {"answered": 0, "other_status": 0, "errors": 0}
        lock = threading.Lock()

        def client(count):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_S)
            for i in range(count):
                try:
                    status = fl.call(port, "GET", f"/stalled/{i}", conn=conn,
                                     timeout=CLIENT_TIMEOUT_S)[0]
                    key = "answered" if status == 404 else "other_status"
                except (OSError, http.client.HTTPException):
                    key = "errors"
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port,
                                                      timeout=CLIENT_TIMEOUT_S)
                with lock:
                    results[key] += 1
                if key == "errors" and results["errors"] >= 5:
                    return  # blocked: the first few timeouts say it, no need to wait for all
            conn.close()

        t0 = time.monotonic()
        workers = [threading.Thread(target=client, args=(REQUESTS // THREADS,), daemon=True)
                   for _ in range(THREADS)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(CLIENT_TIMEOUT_S * 20)
        took = time.monotonic() - t0
        print(f"  stdout stalled: {results['answered']} of {REQUESTS} answered 404 in {took:.1f} s,"
              f" {results['other_status']} other statuses, {results['errors']} errors/timeouts",
              flush=True)
        checks.check(results["answered"] == REQUESTS,
                     f"every request answered while stdout is stalled ({results})")
        during = dropped_metric(port)
        print(f"  log_lines_dropped_total while stalled: {during}", flush=True)
        checks.check(during is not None and during > 0,
                     f"log_lines_dropped_total > 0 while stalled (got {during})")

        svc.resume_stdout()
        notices = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            notices = svc.events("log_lines_dropped")
            total = sum(json.loads(line).get("dropped", 0) for line in notices)
            if notices and total >= (during or 0):
                break
            time.sleep(0.2)
        final = dropped_metric(port)
        total = sum(json.loads(line).get("dropped", 0) for line in notices)
        print(f"  after resuming: {len(notices)} log_lines_dropped warning(s), dropped fields sum"
              f" {total}, metric {final}", flush=True)
        checks.check(len(notices) >= 1, "a log_lines_dropped warning once writing resumes")
        checks.check(all(json.loads(l)["level"] == "warning" for l in notices),
                     "the notice is a warning")
        checks.check(final is not None and total == final,
                     f"the warnings count every dropped line (sum {total}, metric {final})")
        checks.service_ends_cleanly(svc)
    finally:
        svc.resume_stdout()
        if svc.alive():
            svc.stop()
    return checks.report()


if __name__ == "__main__":
    fl.exit_cleanly_on_signals()
    sys.exit(main())
