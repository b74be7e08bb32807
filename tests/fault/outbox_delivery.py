#!/usr/bin/env python3
"""Fault injection: the outbox's delivery of user events (docs/events.md) through a receiver
outage, a service restart and a PostgreSQL restart, with two replicas dispatching; then a
receiver that always fails.

The receiver is tests/support/webhook_receiver.mjs: it verifies every call with the npm package
`standardwebhooks`, as a receiver in production would, and keeps an idempotent view (events by
webhook-id) plus counts of redeliveries and of calls of one id arriving while another of the
same id was still being handled.

Part 1, nothing lost, nothing twice at once: a private PostgreSQL cluster; replicas A and B on
it, both sending to one receiver, which answers 503 to everything at first. Registrations go to
both replicas; meanwhile B is restarted (SIGTERM, a new process) and PostgreSQL goes down
(fast shutdown) and comes back. Then the receiver answers 200 again. Every registration that
got a 201 must arrive exactly once in the receiver's idempotent view (counted by event id and
by user), none with a bad signature, never two calls of one id at the same time, and every
outbox row of the destination must end `delivered`.

Part 2, a receiver that always fails: replica C with OUTBOX_MAX_AGE_HOURS of 10.8 s sends to a
second receiver that answers 503 forever. The circuit breaker opens (the receiver sees fewer
attempts than there are events), every row goes dead after the max age, and the metrics say so.

Prints the figures: events written, delivered, redeliveries seen by id, duplicates at the
idempotent view (0), lost (0), breaker openings, dead rows.
Usage: tests/fault/outbox_delivery.py [binary] (exit 0 = pass)
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

RECEIVER = os.path.join(fl.ROOT, "tests", "support", "webhook_receiver.mjs")
USERS_BEFORE = 30   # registrations while the receiver fails, before the restarts
USERS_AFTER = 10    # registrations after PostgreSQL came back
DOWN_S = 6.0        # the receiver keeps failing at least this long
DELIVER_S = 150     # the bound for every event to arrive once the receiver answers
DEAD_USERS = 12


class Receiver:
    def __init__(self):
        self.secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        self.proc = subprocess.Popen(["node", RECEIVER, "--secret", self.secret, "--port", "0",
                                      "--exit-on-stdin-close"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().strip())
        self.url = f"http://127.0.0.1:{self.port}/hooks"

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return json.loads(raw) if raw else None

    def mode(self, **mode):
        self._call("POST", "/_control/mode", mode)

    def state(self):
        return self._call("GET", "/_control/state")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def metric(port, name, labels):
    """The value of one series on /metrics (0 when absent)."""
    status, _, body = fl.call(port, "GET", "/metrics")
    if status != 200:
        return 0.0
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in body.decode().splitlines():
        if line.startswith(name + "{") and line[len(name) + 1:].startswith(want + "}"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def states(url, destination, want, timeout_s=15):
    """The destination's rows counted by state ("state|count" lines), polled (bounded) until
    they are `want`."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = fl.psql(url, "SELECT state, count(*) FROM outbox WHERE destination = "
                            f"'{destination}' GROUP BY state ORDER BY state").split()
        if rows == want or time.monotonic() >= deadline:
            return rows
        time.sleep(0.2)


def register_many(ports, prefix, count, results):
    for i in range(count):
        port = ports[i % len(ports)]
        email = f"{prefix}-{i}@example.com"
        try:
            status, _, body = fl.register(port, email, timeout=10)
        except OSError as e:
            results.append((email, f"error:{e}", None))
            continue
        results.append((email, status, json.loads(body)["id"] if status == 201 else None))


def main():
    checks = fl.Checks("outbox_delivery")
    binary = fl.binary_from_argv()
    pg = fl.TestServer("pg")
    receiver = Receiver()
    dead_receiver = None
    services = {}
    try:
        # Commits must survive the restart (the test cluster runs with them asynchronous).
        fl.psql(pg.url, "ALTER DATABASE user_service_test SET synchronous_commit = on")
        env = {"DATABASE_URL": pg.url, "RATE_LIMIT_ENABLED": "false",
               "DATABASE_CONNECT_TIMEOUT_SECONDS": "30", "MIGRATE_ON_START": "true",
               "WEBHOOK_URLS": receiver.url, "WEBHOOK_SECRET": receiver.secret}
        destination = "webhook " + receiver.url
        receiver.mode(mode="fail")
        services["A"] = fl.Service(binary, env)
        services["B"] = fl.Service(binary, env)
        tag = f"obx{os.getpid()}x{int(time.time())}"
        results = []
        t_down = time.monotonic()

        # ---- part 1: receiver down; a replica restart and a database restart meanwhile ----
        register_many([services["A"].port, services["B"].port], tag + "-a", USERS_BEFORE // 2,
                      results)
        openings = metric(services["B"].port, "outbox_breaker_openings_total",
                          {"destination": destination})
        checks.check(services["B"].stop() == 0, "replica B exits 0 on SIGTERM")
        services["B"] = fl.Service(binary, env)
        register_many([services["A"].port, services["B"].port], tag + "-b",
                      USERS_BEFORE - USERS_BEFORE // 2, results)
        pg.halt()
        time.sleep(2.0)
        pg.resume()
        checks.check(fl.wait_status(services["A"].port, "/health/ready", 200, 30) == 200,
                     "replica A ready again after the database restart")
        checks.check(fl.wait_status(services["B"].port, "/health/ready", 200, 30) == 200,
                     "replica B ready again after the database restart")
        register_many([services["A"].port, services["B"].port], tag + "-c", USERS_AFTER, results)
        time.sleep(max(0.0, DOWN_S - (time.monotonic() - t_down)))
        failed_answers = receiver.state()["failed_answers"]
        checks.check(failed_answers > 0, f"the receiver refused deliveries while down "
                                         f"({failed_answers})")
        receiver.mode(mode="ok")

        written = {uid for _, status, uid in results if status == 201}
        others = [(e, s) for e, s, _ in results if s != 201]
        checks.check(len(written) >= USERS_BEFORE, f"registrations answered 201: {len(written)} "
                                                   f"of {len(results)} (others: {others[:3]})")
        deadline = time.monotonic() + DELIVER_S
        state = receiver.state()
        while time.monotonic() < deadline:
            state = receiver.state()
            got = {a["data"].get("id") for a in state["accepted"]
                   if a["type"] == "user.registered"}
            if written <= got:
                break
            time.sleep(0.5)
        by_user = {}
        for a in state["accepted"]:
            if a["type"] == "user.registered":
                by_user[a["data"].get("id")] = by_user.get(a["data"].get("id"), 0) + 1
        delivered = sum(1 for uid in written if by_user.get(uid, 0) >= 1)
        lost = len(written) - delivered
        view_duplicates = sum(n - 1 for n in by_user.values() if n > 1)
        ids = [a["id"] for a in state["accepted"]]
        checks.check(lost == 0, f"every acknowledged registration's event arrived (lost {lost})")
        checks.check(view_duplicates == 0 and len(ids) == len(set(ids)),
                     f"the idempotent view holds each event once ({view_duplicates} extra)")
        checks.check(state["concurrent_same_id"] == 0,
                     f"no event delivered twice at the same time "
                     f"({state['concurrent_same_id']})")
        checks.check(state["invalid"] == 0, f"every call verified ({state['invalid']} invalid)")
        # The receiver answered the last call a moment before the dispatcher marks its row.
        rows = states(pg.url, destination, [f"delivered|{len(written)}"])
        checks.check(rows == [f"delivered|{len(written)}"],
                     f"every outbox row of the destination delivered: {rows}")
        openings += sum(metric(services[k].port, "outbox_breaker_openings_total",
                               {"destination": destination}) for k in ("A", "B"))
        checks.check(openings >= 1, f"the breaker opened while the receiver was down "
                                    f"({openings:.0f} openings)")
        print(f"figures: written {len(written)}, delivered {delivered}, redeliveries seen by id "
              f"{state['duplicates_by_id']}, duplicates at the idempotent view {view_duplicates}, "
              f"lost {lost}, concurrent same-id calls {state['concurrent_same_id']}, receiver "
              f"attempts {state['attempts']} ({state['failed_answers']} refused), breaker "
              f"openings {openings:.0f}", flush=True)

        # ---- part 2: a receiver that always fails: the breaker, then the dead ----
        dead_receiver = Receiver()
        dead_receiver.mode(mode="fail")
        dead_destination = "webhook " + dead_receiver.url
        services["C"] = fl.Service(binary, dict(env, WEBHOOK_URLS=dead_receiver.url,
                                                WEBHOOK_SECRET=dead_receiver.secret,
                                                OUTBOX_MAX_AGE_HOURS="0.003"))
        dead_results = []
        register_many([services["C"].port], tag + "-d", DEAD_USERS, dead_results)
        dead_written = sum(1 for _, s, _ in dead_results if s == 201)
        checks.check(dead_written == DEAD_USERS, f"registrations on C: {dead_written} 201s")
        deadline = time.monotonic() + 60
        dead = 0.0
        while time.monotonic() < deadline:
            dead = metric(services["C"].port, "outbox_deliveries_total",
                          {"destination": dead_destination, "result": "dead"})
            if dead >= dead_written:
                break
            time.sleep(0.5)
        attempts = dead_receiver.state()["attempts"]
        c_openings = metric(services["C"].port, "outbox_breaker_openings_total",
                            {"destination": dead_destination})
        rows = states(pg.url, dead_destination, [f"dead|{dead_written}"])
        checks.check(dead == dead_written, f"every event dead after the max age: metric {dead:.0f}"
                                           f" of {dead_written}")
        checks.check(rows == [f"dead|{dead_written}"], f"every row of the destination dead: {rows}")
        checks.check(c_openings >= 1, f"the breaker opened ({c_openings:.0f})")
        checks.check(attempts < dead_written,
                      f"the breaker held calls back: {attempts} attempts for {dead_written} events")
        checks.check(bool(services["C"].events("outbox_breaker_opened")),
                     "outbox_breaker_opened logged")
        checks.check(bool(services["C"].events("outbox_dead")), "outbox_dead logged")
        leaked = [l for s in services.values() for l in s.lines
                  if receiver.secret[6:] in l or dead_receiver.secret[6:] in l]
        checks.check(not leaked, f"the webhook secret is never logged ({leaked[:1]})")
        print(f"figures (always failing): events {dead_written}, receiver attempts {attempts}, "
              f"breaker openings {c_openings:.0f}, dead {dead:.0f}", flush=True)
        for name, svc in services.items():
            checks.service_ends_cleanly(svc, name)
    finally:
        for svc in services.values():
            if svc.alive():
                svc.stop()
        receiver.stop()
        if dead_receiver:
            dead_receiver.stop()
        pg.stop()
    return checks.report()


if __name__ == "__main__":
    fl.exit_cleanly_on_signals()
    sys.exit(main())
