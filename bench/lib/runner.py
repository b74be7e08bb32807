#!/usr/bin/env python3
"""The benchmark itself; bench/run.sh builds the binary, starts PostgreSQL and Redis, then runs
this with their URLs. It starts the service and the references (nginx, pgbench) as its own
children (they die with it), measures every scenario after a warm-up, then memory and start-up,
and writes bench/results/<timestamp>.json, latest.json and latest.png.

Environment (set by run.sh): BENCH_BIN, BENCH_PG_URL, BENCH_REDIS_URL, BENCH_WORK, BENCH_OUT,
DURATION (seconds, default 10), CONNECTIONS (64), AUTH_CONNECTIONS (16), WARMUP (3),
IDLE_CONNECTIONS (10000), STARTUP_RUNS (7), QUICK (1 = smoke run), SCENARIOS (comma list filter).
Tuning knobs passed through to the service when set: WORKERS, DATABASE_POOL_SIZE,
DATABASE_POOL_MAX_OVERFLOW.

WORKERS defaults to 1 here (the service's own default is one I/O thread per core): on this
machine's two cores, shared with wrk and PostgreSQL, one I/O thread measured best for every
scenario (issue 8: live +20-30%, p99 lower in me and get_user, me/get_user within 3%). The nginx
reference is measured both with one worker and with `auto` (one per core), and the faster of
the two is the reference, so the service's best configuration meets nginx's best.
"""
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idle_connections  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
SCENARIOS_DIR = os.path.join(BENCH, "scenarios")

QUICK = os.environ.get("QUICK", "") not in ("", "0")
BIN = os.environ["BENCH_BIN"]
PG_URL = os.environ["BENCH_PG_URL"]
REDIS_URL = os.environ["BENCH_REDIS_URL"]
WORK = os.environ["BENCH_WORK"]
OUT = os.environ.get("BENCH_OUT", os.path.join(BENCH, "results"))


def env_int(name, default, quick_default=None):
    value = os.environ.get(name)
    if value:
        return int(value.rstrip("s"))
    return quick_default if QUICK and quick_default is not None else default


DURATION = env_int("DURATION", 10, 3)
WARMUP = env_int("WARMUP", 3, 1)
CONNECTIONS = env_int("CONNECTIONS", 64)
AUTH_CONNECTIONS = env_int("AUTH_CONNECTIONS", 16)
IDLE_CONNECTIONS = env_int("IDLE_CONNECTIONS", 10_000, 1_000)
STARTUP_RUNS = env_int("STARTUP_RUNS", 7, 3)
SEED_USERS = 1000
TOKEN_USERS = 100  # distinct bearer tokens the `me` scenario cycles through
ONLY = {s for s in os.environ.get("SCENARIOS", "").split(",") if s}

ADMIN_EMAIL = "admin@bench.example.com"
PASSWORD = "bench-password-0001"  # every seeded user's; the hash is made by user-service itself
JWT_SECRET = "bench-jwt-secret-bench-jwt-secret-bench-jwt-secret"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"  # in Debian's postgresql-15 package
PASS_THROUGH = ("WORKERS", "DATABASE_POOL_SIZE", "DATABASE_POOL_MAX_OVERFLOW")
DEFAULT_WORKERS = "1"  # see the module comment


def log(msg):
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def service_env(**extra):
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "ENVIRONMENT": "production",
        "HOST": "127.0.0.1",
        "DATABASE_URL": PG_URL,
        "JWT_SECRET": JWT_SECRET,
        "LOG_LEVEL": "info",
        # Rate limiting stays ON (its cost is part of every API request) with limits no benchmark
        # reaches (the settings' maximum, 1,000,000 per minute per client), so no 429 distorts
        # the numbers; the default cost of argon2id is kept (production refuses less).
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "LOGIN_RATE_LIMIT_PER_MINUTE": "1000000",
        "WORKERS": DEFAULT_WORKERS,
    }
    for name in PASS_THROUGH:
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Service:
    """One user-service process on a free port, its stdout (the JSON log) in a file."""

    def __init__(self, name, env):
        self.name = name
        self.port = procs.free_port()
        self.log_path = os.path.join(WORK, f"service-{name}.log")
        self._log = open(self.log_path, "ab")
        env = dict(env, PORT=str(self.port))
        self.started = time.perf_counter()
        self.proc = procs.spawn([BIN, "serve"], env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.ready_after = procs.wait_ready(self.port, self.proc) - self.started
        self.pid = self.proc.pid

    def request_lines(self):
        """request_completed lines logged so far (one per API request, SPEC §4)."""
        with open(self.log_path, "rb") as f:
            return sum(1 for line in f if b'"event":"request_completed"' in line)

    def truncate_log(self):
        self._log.truncate(0)

    def stop(self):
        code = procs.stop(self.proc)
        self._log.close()
        return code


# ---- seeding ----

def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                         check=True, capture_output=True, text=True, timeout=120)
    return out.stdout


def seed(data_dir):
    """1,000 users with a real argon2id hash at the default cost, made by user-service itself
    (create-admin), copied by SQL: seeding through the API would cost 1,000 hashes."""
    env = service_env(MIGRATE_ON_START="false")
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run([BIN, "create-admin", "--email", ADMIN_EMAIL, "--name", "Bench Admin"],
                   env=dict(env, ADMIN_PASSWORD=PASSWORD), check=True, capture_output=True,
                   timeout=120)
    psql(PG_URL, f"""
        INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at)
        SELECT gen_random_uuid(), 'user' || i || '@bench.example.com', 'Bench User ' || i,
               (SELECT password_hash FROM users WHERE email = '{ADMIN_EMAIL}'), 'user',
               now() - i * interval '1 second', now()
        FROM generate_series(1, {SEED_USERS}) AS i
        ON CONFLICT DO NOTHING""")
    rows = psql(PG_URL, "SELECT id, email FROM users WHERE role = 'user' AND email LIKE "
                        "'user%@bench.example.com' ORDER BY created_at DESC").split()
    ids = [r.split("|")[0] for r in rows]
    emails = [r.split("|")[1] for r in rows]
    assert len(ids) >= SEED_USERS, f"seeded {len(ids)} users"
    with open(os.path.join(data_dir, "user_ids.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
    with open(os.path.join(data_dir, "emails.txt"), "w") as f:
        f.write("\n".join(emails) + "\n")
    with open(os.path.join(data_dir, "password.txt"), "w") as f:
        f.write(PASSWORD + "\n")
    return emails


def login(port, email):
    body = urllib.parse.urlencode({"username": email, "password": PASSWORD})
    status, data = procs.http_call(port, "POST", "/api/v1/auth/token", body,
                                   {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise RuntimeError(f"login of {email} answered {status}: {data[:200]!r}")
    return json.loads(data)["access_token"]


def write_tokens(port, emails, data_dir):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda e: login(port, e), emails[:TOKEN_USERS]))
    with open(os.path.join(data_dir, "tokens.txt"), "w") as f:
        f.write("\n".join(tokens) + "\n")
    with open(os.path.join(data_dir, "admin_token.txt"), "w") as f:
        f.write(login(port, ADMIN_EMAIL) + "\n")


# ---- load generators ----

def wrk(scenario, port, connections, seconds, args=()):
    script = os.path.join(SCENARIOS_DIR, scenario + ".lua")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script,
           f"http://127.0.0.1:{port}", "--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    m = re.search(r"^BENCH_JSON (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"wrk {scenario} failed ({out.returncode}): {out.stdout}{out.stderr}")
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["error_count"] = sum(r["errors"].values())
    return r


def measure(scenario, svc, connections, args=()):
    """Warm-up, then the measured run with the service's CPU time and peak RSS around it, and
    the number of access-log lines it wrote (one per request expected, none for health)."""
    wrk(scenario, svc.port, connections, WARMUP, args)
    svc.truncate_log()
    rss_reset = procs.reset_peak_rss(svc.pid)
    cpu0 = procs.cpu_seconds(svc.pid)
    r = wrk(scenario, svc.port, connections, DURATION, args)
    r["cpu_s"] = procs.cpu_seconds(svc.pid) - cpu0
    r["peak_rss_kib"] = procs.status_kib(svc.pid, "VmHWM" if rss_reset else "VmRSS")
    r["connections"] = connections
    time.sleep(0.5)  # the log thread writes the last lines
    r["log_lines"] = svc.request_lines()
    return r


class Nginx:
    """nginx answering `return 200` with the same body as /health/live: the HTTP limit. It runs
    as our child on 127.0.0.1 with a temporary prefix, with `workers` worker processes ("auto":
    as many as CPUs)."""

    def __init__(self, workers="auto"):
        self.workers = workers
        prefix = os.path.join(WORK, f"nginx-{workers}")
        os.makedirs(prefix, exist_ok=True)
        self.port = procs.free_port()
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}; proxy_temp_path {prefix}; fastcgi_temp_path {prefix};
  uwsgi_temp_path {prefix}; scgi_temp_path {prefix};
  server {{
    listen 127.0.0.1:{self.port};
    location / {{ default_type application/json; return 200 '{{"status":"alive"}}'; }}
  }}
}}
""")
        self.proc = procs.spawn(["nginx", "-p", prefix, "-c", conf, "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                if procs.http_get(self.port, "/", timeout=1.0)[0] == 200:
                    break
            except OSError:
                time.sleep(0.01)

    def cpu_seconds(self):
        return sum(procs.cpu_seconds(p) for p in [self.proc.pid, *procs.children(self.proc.pid)])

    def measure(self, connections):
        wrk("live", self.port, connections, WARMUP)
        cpu0 = self.cpu_seconds()
        r = wrk("live", self.port, connections, DURATION)
        r["cpu_s"] = self.cpu_seconds() - cpu0
        r["connections"] = connections
        return r

    def stop(self):
        procs.stop(self.proc, timeout=10)


def bracketed(what, before, after):
    """A reference measured right before and right after the scenarios it stands for: the
    mean of the two, so that drift in the machine's load during the group affects both sides."""
    runs = [before, after]
    r = dict(before)
    r["what"] = what
    r["rps"] = statistics.mean(x["rps"] for x in runs)
    r["runs_rps"] = [round(x["rps"], 1) for x in runs]
    r["latency_us"] = {k: max(x["latency_us"][k] for x in runs) for k in before["latency_us"]}
    r["error_count"] = sum(x["error_count"] for x in runs)
    r["requests"] = sum(x["requests"] for x in runs)
    if all("cpu_s" in x for x in runs):
        r["cpu_s"] = sum(x["cpu_s"] for x in runs)
        r["cpu_us_per_request"] = r["cpu_s"] * 1e6 / max(1, r["requests"])
    return r


def pgbench_url():
    return urllib.parse.urlsplit(PG_URL)._replace(path="/pgbench").geturl()


def pgbench_setup():
    try:
        psql(PG_URL, "CREATE DATABASE pgbench")
    except subprocess.CalledProcessError:
        pass  # exists from an earlier phase of this run
    subprocess.run([PGBENCH, "-i", "-q", "-s", "1", pgbench_url()], check=True,
                   capture_output=True, timeout=300)


def pgbench(clients):
    """`pgbench -S -M prepared`: one primary-key read per transaction, the database's limit."""
    url = pgbench_url()
    base = [PGBENCH, "-n", "-S", "-M", "prepared", "-c", str(clients), "-j", "1"]
    subprocess.run(base + ["-T", str(WARMUP), url], check=True, capture_output=True,
                   timeout=WARMUP + 120)
    log_dir = os.path.join(WORK, "pgbench-log")
    shutil.rmtree(log_dir, ignore_errors=True)
    os.makedirs(log_dir)
    out = subprocess.run(base + ["-T", str(DURATION), "-l", "--log-prefix",
                                 os.path.join(log_dir, "tx"), url],
                         check=True, capture_output=True, text=True, cwd=log_dir,
                         timeout=DURATION + 120)
    m = re.search(r"tps = ([0-9.]+) \(without initial", out.stdout)
    if not m:
        raise RuntimeError(f"pgbench printed no tps: {out.stdout}{out.stderr}")
    tps = float(m.group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    lat = []
    for name in os.listdir(log_dir):
        with open(os.path.join(log_dir, name)) as f:
            lat.extend(int(line.split()[2]) for line in f if line.strip())
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))] if lat else 0

    return {"rps": tps,
            "requests": len(lat), "connections": clients,
            "latency_us": {"p50": pct(50), "p99": pct(99), "p99_9": pct(99.9),
                           "max": lat[-1] if lat else 0},
            "error_count": int(failed.group(1)) if failed else 0}


# ---- memory and start-up ----

def memory(data_dir):
    svc = Service("memory", service_env())
    try:
        token = open(os.path.join(data_dir, "tokens.txt")).readline().strip()
        for _ in range(20):  # touch the API and the pool once, as a live service would have
            procs.http_get(svc.port, "/health/live")
            procs.http_get(svc.port, "/api/v1/users/me", {"Authorization": "Bearer " + token})
        time.sleep(2)
        idle = procs.status_kib(svc.pid, "VmRSS")
        t0 = time.monotonic()
        socks, failed = idle_connections.open_idle(svc.port, IDLE_CONNECTIONS)
        opened_in = time.monotonic() - t0
        time.sleep(2)
        loaded = procs.status_kib(svc.pid, "VmRSS")
        idle_connections.close_all(socks)
        time.sleep(3)
        after = procs.status_kib(svc.pid, "VmRSS")
        return {"idle_rss_kib": idle, "connections": len(socks), "failed": failed,
                "open_seconds": round(opened_in, 2), "with_connections_rss_kib": loaded,
                "delta_kib": loaded - idle,
                "per_connection_bytes": round((loaded - idle) * 1024 / max(1, len(socks))),
                "after_close_rss_kib": after}
    finally:
        svc.stop()


def startup(kind):
    """exec → first 200 from GET /health/ready, on an already migrated database."""
    if kind == "sqlite":
        db = os.path.join(WORK, "startup", "users.db")
        os.makedirs(os.path.dirname(db), exist_ok=True)
        env = service_env(ENVIRONMENT="development", DATABASE_URL="sqlite:///" + db,
                          MIGRATE_ON_START="true")
    else:
        env = service_env(MIGRATE_ON_START="true")
    times = []
    for i in range(STARTUP_RUNS + 1):
        svc = Service(f"startup-{kind}", env)
        code = svc.stop()
        if code != 0:
            raise RuntimeError(f"start-up run {i} ({kind}) exited with {code}")
        if i > 0:  # the first run creates (SQLite) or warms the files; not counted
            times.append(svc.ready_after * 1000)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1), "runs": len(times),
            "measure": "exec to the first 200 from GET /health/ready (polled every 1 ms)"}


# ---- the run ----

def want(name):
    return not ONLY or name in ONLY


def main():
    idle_connections.raise_fd_limit(65536)
    data = os.path.join(WORK, "data")
    os.makedirs(data, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = open("/proc/loadavg").read().split()[:3]
    log(f"load average before: {' '.join(load_before)}; duration {DURATION}s, warm-up {WARMUP}s")

    log("seeding 1,000 users")
    emails = seed(data)
    results, refs = [], {}

    def record(name, r, reference=None, instance="postgres"):
        r.update({"name": name, "reference": reference, "instance": instance})
        results.append(r)
        log(f"{name}: {r['rps']:.0f} req/s, p99 {r['latency_us']['p99'] / 1000:.2f} ms, "
            f"errors {r['error_count']}, cpu {r['cpu_s']:.1f} s")

    # The API on PostgreSQL with the in-process rate limiter.
    svc = Service("postgres", service_env())
    try:
        write_tokens(svc.port, emails, data)
        if want("live"):
            nginxes = [Nginx("auto"), Nginx(1)]
            try:
                log("reference: nginx (worker_processes auto and 1), before and after live")
                before = [n.measure(CONNECTIONS) for n in nginxes]
                record("live", measure("live", svc, CONNECTIONS), "nginx")
                after = [n.measure(CONNECTIONS) for n in nginxes]
            finally:
                for n in nginxes:
                    n.stop()
            candidates = [
                bracketed(f"nginx return 200 (worker_processes {n.workers}), before and after live",
                          b, a)
                for n, b, a in zip(nginxes, before, after)]
            # The faster configuration is the limit of this machine; the other is kept beside it.
            refs["nginx"] = max(candidates, key=lambda r: r["rps"])
            refs["nginx"]["alternatives"] = [
                {"what": c["what"], "rps": c["rps"], "runs_rps": c["runs_rps"]}
                for c in candidates if c is not refs["nginx"]]
            for c in candidates:
                log(f"{c['what']}: {c['runs_rps']} req/s")
        if want("ready"):
            record("ready", measure("ready", svc, CONNECTIONS))
        db_scenarios = [n for n in ("get_user", "me", "not_found") if want(n)]
        if db_scenarios:
            log("reference: pgbench, before and after the database scenarios")
            pgbench_setup()
            before = pgbench(CONNECTIONS)
            for name in db_scenarios:
                record(name, measure(name, svc, CONNECTIONS, [data]), "pgbench")
            after = pgbench(CONNECTIONS)
            refs["pgbench"] = bracketed(f"pgbench -S -M prepared -c {CONNECTIONS} -j 1 (scale 1), "
                                        f"before and after {', '.join(db_scenarios)}",
                                        before, after)
            log(f"pgbench: {refs['pgbench']['runs_rps']} tps")
        if want("login"):
            record("login", measure("login", svc, AUTH_CONNECTIONS, [data]))
        if want("register"):
            record("register", measure("register", svc, AUTH_CONNECTIONS, [data]))
    finally:
        code = svc.stop()
    log(f"service stopped with exit code {code}")

    # The production scenario: the same with the rate limiter on Redis.
    if want("mixed"):
        prod = Service("redis", service_env(REDIS_URL=REDIS_URL))
        try:
            record("mixed", measure("mixed", prod, CONNECTIONS, [data]),
                   instance="postgres+redis")
        finally:
            prod.stop()

    mem = start = None
    if want("memory"):
        log(f"memory: idle, then {IDLE_CONNECTIONS} idle keep-alive connections")
        mem = memory(data)
        log(f"memory: {mem}")
    if want("startup"):
        start = {kind: startup(kind) for kind in ("sqlite", "postgres")}
        log(f"start-up: {start}")

    load_after = open("/proc/loadavg").read().split()[:3]
    run = {
        "started": started.isoformat(timespec="seconds"),
        "git": subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip(),
        "host": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after,
                 "kernel": os.uname().release},
        "config": {"duration_s": DURATION, "warmup_s": WARMUP, "connections": CONNECTIONS,
                   "auth_connections": AUTH_CONNECTIONS, "quick": QUICK,
                   "workers": os.environ.get("WORKERS", DEFAULT_WORKERS),
                   "service": "ENVIRONMENT=production, PostgreSQL (+ Redis for mixed), "
                              "rate limits on at 1,000,000/min, LOG_LEVEL=info to a file"},
        "references": refs,
        "scenarios": results,
        "memory": mem,
        "startup": start,
    }
    report.finish(run, OUT, QUICK)


if __name__ == "__main__":
    main()
