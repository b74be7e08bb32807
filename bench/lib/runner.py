#!/usr/bin/env python3
"""The benchmark itself; bench/run.sh builds the binary, starts PostgreSQL and Redis, then runs
this with their URLs. It starts the service and the references (nginx, pgbench) as its own
children (they die with it), measures every scenario after a warm-up, then memory and start-up,
and writes bench/results/<timestamp>.json, latest.json and latest.png.

Environment (set by run.sh): BENCH_BIN, BENCH_PG_URL, BENCH_REDIS_URL, BENCH_WORK, BENCH_OUT,
DURATION (seconds, default 10), CONNECTIONS (64), AUTH_CONNECTIONS (16), WARMUP (3),
IDLE_CONNECTIONS (10000), STARTUP_RUNS (7), QUICK (1 = smoke run), SCENARIOS (comma list filter;
`scale` adds the 1,000,000-user phase, which the default run leaves out), SCALE_USERS (1000000).
Tuning knobs passed through to the service when set: WORKERS, DATABASE_POOL_SIZE,
DATABASE_POOL_MAX_OVERFLOW.

The service runs at its DEFAULT settings unless those are set: one I/O thread per core, which is
what users run. The nginx reference is measured with one worker and with `auto` (one per core);
the one with the service's number of workers is the reference, the other is printed beside it.
"""
import concurrent.futures
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid

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
SCALE_USERS = env_int("SCALE_USERS", 1_000_000)
PIPELINE_DEPTH = 8  # reads per pipeline in the pipelined pgbench reference

ADMIN_EMAIL = "admin@bench.example.com"
PASSWORD = "bench-password-0001"  # every seeded user's; the hash is made by user-service itself
JWT_SECRET = "bench-jwt-secret-bench-jwt-secret-bench-jwt-secret"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"  # in Debian's postgresql-15 package
PASS_THROUGH = ("WORKERS", "DATABASE_POOL_SIZE", "DATABASE_POOL_MAX_OVERFLOW")
# Seeded users' creation times count back from here, one second apart (keyset pagination over
# distinct times, the same rows on PostgreSQL and SQLite).
SEED_EPOCH = "2026-01-01 00:00:00+00"
USER_COLUMNS = "id, email, name, password_hash, role, created_at, updated_at"


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
        """request_completed lines logged so far (one per API request, see docs/operations.md
        "Logs")."""
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


def seed_user_id(i):
    """The id of seeded user i: md5('bench-user-' || i) as a UUID, so that the pipelined pgbench
    reference can compute the id of a random user in SQL (and SQLite gets the same ids)."""
    return str(uuid.UUID(hashlib.md5(f"bench-user-{i}".encode()).hexdigest()))


def seed_users_sql(first, last):
    """Users first..last (user<i>@bench.example.com), all with the admin's argon2id hash: one
    INSERT ... SELECT FROM generate_series, index maintenance included; and one session each
    (id md5('bench-session-' || i)), which the pipelined reference checks like `me` does."""
    return seed_users_only_sql(first, last) + ";" + f"""
        INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, max_expires_at,
                              user_agent, client_ip)
        SELECT md5('bench-session-' || i)::uuid, md5('bench-user-' || i)::uuid,
               timestamptz '{SEED_EPOCH}', timestamptz '{SEED_EPOCH}',
               timestamptz '{SEED_EPOCH}' + interval '3650 days',
               timestamptz '{SEED_EPOCH}' + interval '3650 days', 'bench', '127.0.0.1'
        FROM generate_series({first}, {last}) AS i
        ON CONFLICT DO NOTHING"""


def seed_users_only_sql(first, last):
    return f"""
        INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at)
        SELECT md5('bench-user-' || i)::uuid, 'user' || i || '@bench.example.com',
               'Bench User ' || i,
               (SELECT password_hash FROM users WHERE email = '{ADMIN_EMAIL}'), 'user',
               timestamptz '{SEED_EPOCH}' - i * interval '1 second',
               timestamptz '{SEED_EPOCH}' - i * interval '1 second'
        FROM generate_series({first}, {last}) AS i
        ON CONFLICT DO NOTHING"""


def write_data(data_dir, numbers):
    """user_ids.txt and emails.txt of the seeded users `numbers`, in that order (line i of
    tokens.txt will be the token of line i of user_ids.txt), and password.txt."""
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "user_ids.txt"), "w") as f:
        f.write("\n".join(seed_user_id(i) for i in numbers) + "\n")
    emails = [f"user{i}@bench.example.com" for i in numbers]
    with open(os.path.join(data_dir, "emails.txt"), "w") as f:
        f.write("\n".join(emails) + "\n")
    with open(os.path.join(data_dir, "password.txt"), "w") as f:
        f.write(PASSWORD + "\n")
    return emails


def seed(data_dir):
    """1,000 users with a real argon2id hash at the default cost, made by user-service itself
    (create-admin), copied by SQL: seeding through the API would cost 1,000 hashes."""
    env = service_env(MIGRATE_ON_START="false")
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run([BIN, "create-admin", "--email", ADMIN_EMAIL, "--name", "Bench Admin"],
                   env=dict(env, ADMIN_PASSWORD=PASSWORD), check=True, capture_output=True,
                   timeout=120)
    psql(PG_URL, seed_users_sql(1, SEED_USERS))
    count = int(psql(PG_URL, "SELECT count(*) FROM users WHERE email LIKE "
                             "'user%@bench.example.com'"))
    assert count >= SEED_USERS, f"seeded {count} users"
    return write_data(data_dir, range(1, SEED_USERS + 1))


def login(port, email):
    body = urllib.parse.urlencode({"username": email, "password": PASSWORD})
    status, data = procs.http_call(port, "POST", "/api/v1/auth/token", body,
                                   {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise RuntimeError(f"login of {email} answered {status}: {data[:200]!r}")
    return json.loads(data)["access_token"]


def write_tokens(port, emails, data_dir):
    """tokens.txt: the tokens of the first TOKEN_USERS emails, in their order; admin_token.txt."""
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


def argon2_limit():
    """The reference for login and register: @node-rs/argon2 (bench/argon2, locked) hashing at
    the service's default cost with one loop per core, as a Node service's libuv pool would;
    hashes per second, reported as "rps" so that it brackets like the other references."""
    folder = os.path.join(BENCH, "argon2")
    if not os.path.isdir(os.path.join(folder, "node_modules")):
        subprocess.run(["npm", "ci", "--prefix", folder, "--no-audit", "--no-fund"], check=True,
                       capture_output=True, timeout=300)
    loops = os.cpu_count() or 1
    seconds = max(3, DURATION // 2)
    out = subprocess.run(["node", os.path.join(folder, "node_rs_argon2.mjs"), "19456", "2", "3",
                          str(seconds), str(loops)], check=True, capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, UV_THREADPOOL_SIZE=str(loops)))
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {"rps": r["hashes_per_second"], "requests": round(r["hashes_per_second"] * seconds),
            "latency_us": {k: r["ms_per_hash"] * 1000 for k in ("p50", "p99", "p99_9")},
            "error_count": 0, "loops": loops, "ms_per_hash": r["ms_per_hash"]}


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


def pipeline_script(users):
    """The pgbench script of the pipelined reference: PIPELINE_DEPTH copies of the read behind
    `me` (the repository's users_find_caller: the user's columns by primary key while its
    session, also by primary key, is active) of random seeded users, sent as one pipeline. The
    ids are computed in SQL from the user's number (see seed_user_id), an md5 of a few bytes
    each."""
    path = os.path.join(WORK, f"pipeline-{users}.sql")
    lines = [f"\\set u{k} random(1, {users})" for k in range(PIPELINE_DEPTH)]
    lines.append("\\startpipeline")
    lines += [f"SELECT {USER_COLUMNS} FROM users WHERE id = md5('bench-user-' || :u{k})::uuid "
              f"AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = "
              f"md5('bench-session-' || :u{k})::uuid AND s.user_id = "
              f"md5('bench-user-' || :u{k})::uuid AND s.revoked_at IS NULL "
              f"AND s.expires_at > now());"
              for k in range(PIPELINE_DEPTH)]
    lines.append("\\endpipeline")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def pgbench_pipelined(clients, users):
    """PIPELINE_DEPTH reads per pipeline (`\\startpipeline` ... `\\endpipeline`, which needs the
    extended protocol: -M prepared) on the service's own database: the limit of a client that
    pipelines like the service's pool does. Its rps is reads/s (transactions/s x depth)."""
    r = pgbench(clients, ["-f", pipeline_script(users)], PG_URL)
    r["tps"] = r["rps"]
    r["rps"] = r["rps"] * PIPELINE_DEPTH
    return r


def pgbench(clients, script=("-S",), url=None):
    """`pgbench -S -M prepared`: one primary-key read per transaction, the database's limit
    without pipelining (or another `script`, e.g. ["-f", file], against `url`)."""
    url = url or pgbench_url()
    base = [PGBENCH, "-n", *script, "-M", "prepared", "-c", str(clients), "-j", "1"]
    subprocess.run(base + ["-T", str(WARMUP), url], check=True, capture_output=True,
                   timeout=WARMUP + 120)
    log_dir = os.path.join(WORK, "pgbench-log")
    shutil.rmtree(log_dir, ignore_errors=True)
    os.makedirs(log_dir)
    # -T counts the connections too, and 64 scram logins and backend forks took up to 8 s on a
    # loaded machine (a 3 s run then processed nothing); tps excludes that time.
    seconds = DURATION + 10
    out = subprocess.run(base + ["-T", str(seconds), "-l", "--log-prefix",
                                 os.path.join(log_dir, "tx"), url],
                         check=True, capture_output=True, text=True, cwd=log_dir,
                         timeout=seconds + 120)
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


# ---- cost as data grows (SCENARIOS=scale) ----

LIST_LIMIT = 50
DEEP_PAGE = min(10_000, SCALE_USERS // LIST_LIMIT // 2)  # 10,000 at 1,000,000 users
PG_TIMESTAMP = """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def page_cursor(created_at, user_id):
    """The list's cursor after a row, as the service encodes it: base64url of
    "<created_at RFC 3339 with microseconds>|<id>", no padding."""
    raw = f"{created_at}|{user_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def write_deep_cursor(data_dir, row, port):
    """cursor.txt: the cursor of page DEEP_PAGE (the row before it, `row`, read from the
    database), checked against the service: 200 and a full page."""
    cursor = page_cursor(*row)
    with open(os.path.join(data_dir, "cursor.txt"), "w") as f:
        f.write(cursor + "\n")
    token = open(os.path.join(data_dir, "admin_token.txt")).readline().strip()
    status, body = procs.http_get(port, f"/api/v1/users?limit={LIST_LIMIT}&cursor={cursor}",
                                  {"Authorization": "Bearer " + token}, timeout=30)
    items = json.loads(body).get("items", []) if status == 200 else []
    if len(items) != LIST_LIMIT:
        raise RuntimeError(f"page {DEEP_PAGE} answered {status} with {len(items)} users: "
                           f"{body[:200]!r}")


def scale_set(db, size, env, data_dir, record, deep_row=None):
    """me, get_user and the list's page 1 (and page DEEP_PAGE with `deep_row`), each on a fresh
    service; each 1,000,000-user figure is compared with the same scenario at 1,000 users. A
    fresh service per scenario gives each a fresh rate-limit budget: the limiter stays on (its
    cost is in every figure), and at SQLite's rates three scenarios on one process would spend
    the per-client budget of 1,000,000 requests a minute and get 429s."""
    runs = [("me", "me", [data_dir]), ("get_user", "get_user", [data_dir]),
            ("list", "list_page1", [data_dir])]
    if deep_row is not None:
        runs.append(("list", f"list_page{DEEP_PAGE}",
                     [data_dir, os.path.join(data_dir, "cursor.txt")]))
    for name, label, args in runs:
        svc = Service(f"scale-{db}-{size}-{label}", env)
        try:
            if not os.path.exists(os.path.join(data_dir, "tokens.txt")):
                write_tokens(svc.port, open(os.path.join(data_dir, "emails.txt")).read().split(),
                             data_dir)
            if label.startswith("list_page") and label != "list_page1":
                write_deep_cursor(data_dir, deep_row, svc.port)
                reference = f"scenario:list_page1@{size}/{db}"
            else:
                reference = f"scenario:{label}@1k/{db}" if size != "1k" else None
            record(f"{label}@{size}/{db}", measure(name, svc, CONNECTIONS, args), reference,
                   f"{db} {size} users")
        finally:
            svc.stop()


def sqlite_rows(first, last, password_hash):
    epoch = datetime.datetime.fromisoformat(SEED_EPOCH)
    for i in range(first, last + 1):
        at = (epoch - datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        yield (seed_user_id(i), f"user{i}@bench.example.com", f"Bench User {i}", password_hash,
               "user", at, at)


def sqlite_copy_sessions(path):
    """The sessions the benchmark's tokens name (made by sign-ins on PostgreSQL, not the seeded
    ones) copied into the SQLite file: a token is only good while its session is."""
    columns = ["id", "user_id", "created_at", "last_used_at", "expires_at", "max_expires_at",
               "user_agent", "client_ip"]
    select = ", ".join(PG_TIMESTAMP.replace("created_at", c) if c.endswith("_at") else c
                       for c in columns)
    out = psql(PG_URL, f"SELECT {select} FROM sessions WHERE revoked_at IS NULL "
                       "AND user_agent <> 'bench'")
    rows = [tuple(line.split("|")) for line in out.splitlines() if line]
    db = sqlite3.connect(path)
    try:
        with db:
            db.executemany(f"INSERT INTO sessions ({', '.join(columns)}) "
                           f"VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        db.close()
    log(f"copied {len(rows)} sessions to SQLite")


def sqlite_insert(path, rows):
    db = sqlite3.connect(path)
    try:
        # Random ids land all over the primary-key index: a 512 MiB page cache (the default is
        # 2 MiB) keeps it in memory while seeding.
        db.execute("PRAGMA cache_size = -524288")
        with db:
            db.executemany(f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("ANALYZE")
    finally:
        db.close()


def size_label(users):
    return f"{users // 1_000_000}M" if users % 1_000_000 == 0 else f"{users // 1000}k"


def scale(data, record, refs):
    """The same reads at 1,000 and at SCALE_USERS users, on PostgreSQL, then on SQLite (a file
    the service migrates, seeded by Python's sqlite3 with the same rows). Tokens at the larger
    size belong to TOKEN_USERS users spread evenly over the table, and the cursor of page
    DEEP_PAGE is built from the row before it."""
    big = os.path.join(WORK, "data-scale")
    numbers = [1 + k * (SCALE_USERS // TOKEN_USERS) for k in range(TOKEN_USERS)]
    write_data(big, numbers)
    shutil.copy(os.path.join(data, "admin_token.txt"), big)
    offset = (DEEP_PAGE - 1) * LIST_LIMIT - 1

    # PostgreSQL: only the seeded users and the admin (not those `register` created).
    psql(PG_URL, "DELETE FROM users WHERE email NOT LIKE 'user%@bench.example.com' "
                 f"AND email <> '{ADMIN_EMAIL}'")
    psql(PG_URL, "VACUUM ANALYZE users")
    scale_set("pg", "1k", service_env(), data, record)
    t0 = time.monotonic()
    psql(PG_URL, seed_users_sql(SEED_USERS + 1, SCALE_USERS))
    psql(PG_URL, "VACUUM ANALYZE users")
    log(f"seeded PostgreSQL to {SCALE_USERS} users in {time.monotonic() - t0:.0f} s")
    row = psql(PG_URL, f"SELECT {PG_TIMESTAMP}, id FROM users ORDER BY created_at DESC, id DESC "
                       f"OFFSET {offset} LIMIT 1").strip().split("|")
    size = size_label(SCALE_USERS)
    scale_set("pg", size, service_env(), big, record, row)
    refs[f"pgbench_pipeline_{size}"] = pipelined = pgbench_pipelined(CONNECTIONS, SCALE_USERS)
    pipelined["what"] = (
        f"pgbench -M prepared -c {CONNECTIONS} -j 1, {PIPELINE_DEPTH} reads of `me` per pipeline "
        f"({SCALE_USERS} users), reads/s")

    # SQLite: the schema from the service's migrations, then the rows.
    path = os.path.join(WORK, "scale", "users.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    env = service_env(DATABASE_URL="sqlite:///" + path)
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    admin = psql(PG_URL, f"SELECT id, email, name, password_hash, role, {PG_TIMESTAMP}, "
                         f"{PG_TIMESTAMP.replace('created_at', 'updated_at')} FROM users "
                         f"WHERE email = '{ADMIN_EMAIL}'").strip().split("|")
    sqlite_insert(path, [tuple(admin), *sqlite_rows(1, SEED_USERS, admin[3])])
    sqlite_copy_sessions(path)
    scale_set("sqlite", "1k", env, data, record)
    t0 = time.monotonic()
    sqlite_insert(path, sqlite_rows(SEED_USERS + 1, SCALE_USERS, admin[3]))
    log(f"seeded SQLite to {SCALE_USERS} users in {time.monotonic() - t0:.0f} s")
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT created_at, id FROM users ORDER BY created_at DESC, id DESC "
                         "LIMIT 1 OFFSET ?", (offset,)).fetchone()
    finally:
        db.close()
    scale_set("sqlite", size, env, big, record, row)


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
            # The reference has the service's number of workers; the other is kept beside it.
            same = 1 if os.environ.get("WORKERS") == "1" else "auto"
            refs["nginx"] = next(c for n, c in zip(nginxes, candidates) if n.workers == same)
            refs["nginx"]["alternatives"] = [
                {"what": c["what"], "rps": c["rps"], "runs_rps": c["runs_rps"]}
                for c in candidates if c is not refs["nginx"]]
            for c in candidates:
                log(f"{c['what']}: {c['runs_rps']} req/s")
        if want("ready"):
            record("ready", measure("ready", svc, CONNECTIONS))
        db_scenarios = [n for n in ("get_user", "me", "get_missing") if want(n)]
        if db_scenarios:
            log("references: pgbench -S and pipelined, before and after the database scenarios")
            pgbench_setup()
            before = [pgbench(CONNECTIONS), pgbench_pipelined(CONNECTIONS, SEED_USERS)]
            for name in db_scenarios:
                r = measure(name, svc, CONNECTIONS, [data])
                r["other_references"] = ["pgbench"]
                record(name, r, "pgbench_pipeline")
            after = [pgbench(CONNECTIONS), pgbench_pipelined(CONNECTIONS, SEED_USERS)]
            which = ", ".join(db_scenarios)
            refs["pgbench_pipeline"] = bracketed(
                f"pgbench -M prepared -c {CONNECTIONS} -j 1, {PIPELINE_DEPTH} reads of `me` per "
                f"pipeline ({SEED_USERS} users), reads/s, before and after {which}",
                before[1], after[1])
            refs["pgbench"] = bracketed(f"pgbench -S -M prepared -c {CONNECTIONS} -j 1 (scale 1), "
                                        f"before and after {which}", before[0], after[0])
            log(f"pgbench: {refs['pgbench']['runs_rps']} tps; pipelined: "
                f"{refs['pgbench_pipeline']['runs_rps']} reads/s")
        auth_scenarios = [n for n in ("login", "register") if want(n)]
        if auth_scenarios:
            log("reference: @node-rs/argon2 hashes/s, before and after login and register")
            before = argon2_limit()
            for name in auth_scenarios:
                record(name, measure(name, svc, AUTH_CONNECTIONS, [data]), "argon2_limit")
            refs["argon2_limit"] = bracketed(
                f"@node-rs/argon2 hashes/s at the default cost (19456 KiB, 2 passes), "
                f"{before['loops']} loops, before and after {', '.join(auth_scenarios)}",
                before, argon2_limit())
            log(f"argon2 limit: {refs['argon2_limit']['runs_rps']} hashes/s")
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

    # Last: it grows the database to SCALE_USERS users.
    if "scale" in ONLY:
        t0 = time.monotonic()
        scale(data, record, refs)
        log(f"scale phase: {time.monotonic() - t0:.0f} s")

    load_after = open("/proc/loadavg").read().split()[:3]
    run = {
        "started": started.isoformat(timespec="seconds"),
        "git": subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip(),
        "host": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after,
                 "kernel": os.uname().release},
        "config": {"duration_s": DURATION, "warmup_s": WARMUP, "connections": CONNECTIONS,
                   "auth_connections": AUTH_CONNECTIONS, "quick": QUICK,
                   "workers": os.environ.get("WORKERS") or "the service's default (one per core)",
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
