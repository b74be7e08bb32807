"""Shared helpers for the fault-injection scripts and the soak (Python 3 stdlib only).

Everything here is bounded (every wait has a deadline), talks to 127.0.0.1 only, and stops
only what it started, by PID. Private PostgreSQL/Redis servers get their own state folders
(mktemp), so they never collide with the ones scripts/test.sh starts.
"""
import ctypes
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")
JWT_SECRET = "fault-injection-secret-that-is-long-enough-0123"


def exit_cleanly_on_signals():
    """SIGTERM/SIGINT raise SystemExit so the scripts' `finally` blocks stop the servers they
    started (a backgrounded script has SIGINT ignored, so SIGTERM is the way to stop it)."""
    def handler(signo, _frame):
        raise SystemExit(128 + signo)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


exit_cleanly_on_signals()


def binary_from_argv():
    """The service binary: argv[1], else $USER_SERVICE_BINARY, else build/user-service."""
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        return sys.argv[1]
    return os.environ.get("USER_SERVICE_BINARY", os.path.join(ROOT, "build", "user-service"))


class Checks:
    """Collects assertion outcomes; report() prints them and returns the exit code."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
            print(f"  FAIL: {what}", flush=True)
        return ok

    def service_ends_cleanly(self, svc, label=""):
        """The end of every script: the process alive (no crash), no unhandled_exception
        logged, and exit code 0 on SIGTERM (under ASan/LSan a leak would make it non-zero)."""
        prefix = f"{label}: " if label else ""
        self.check(svc.alive(), f"{prefix}service alive (no crash)")
        crashes = crash_lines(svc)
        self.check(not crashes, f"{prefix}no unhandled_exception logged ({crashes[:1]})")
        code = svc.stop()
        self.check(code == 0, f"{prefix}clean exit 0 on SIGTERM (got {code}; stderr: "
                              f"{''.join(svc.stderr_lines[-5:])[:500]!r})")

    def report(self):
        status = "PASS" if not self.failures else "FAIL"
        print(f"{self.name}: {status} ({self.passed} checks passed, {len(self.failures)} failed)",
              flush=True)
        for f in self.failures:
            print(f"  - {f}", flush=True)
        return 0 if not self.failures else 1


# ---- private PostgreSQL / Redis via the repository's scripts ----

class TestServer:
    """A private PostgreSQL or Redis started with scripts/{pg,redis}-test-server.sh."""

    def __init__(self, kind):
        assert kind in ("pg", "redis")
        self.kind = kind
        self.state = tempfile.mkdtemp(prefix=f"us-fault-{kind}.")
        var = "PG_TEST_STATE" if kind == "pg" else "REDIS_TEST_STATE"
        self.env = dict(os.environ, **{var: self.state})
        self.script = os.path.join(SCRIPTS, f"{kind}-test-server.sh")
        self.url = self._run("start").strip().splitlines()[-1]

    def _run(self, verb, timeout=90):
        return subprocess.run(["bash", self.script, verb], env=self.env, check=True,
                              capture_output=True, text=True, timeout=timeout).stdout

    def state_vars(self):
        out = {}
        with open(os.path.join(self.state, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                out[k] = v
        return out

    def pid(self):
        return int(self.state_vars()["PID"])

    def kill9(self, wait_s=15):
        """SIGKILL the server process (for PostgreSQL: the postmaster). PostgreSQL backends
        notice their postmaster died and exit by themselves; they are waited for (bounded) and
        then killed by PID, since a new postmaster cannot start while they hold shared memory."""
        pid = self.pid()
        children = child_pids(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + wait_s
        for p in [pid] + children:
            while pid_alive(p) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return pid, children

    def halt(self):
        self._run("halt")

    def resume(self):
        self._run("resume")

    def stop(self):
        try:
            self._run("stop")
        finally:
            try:
                os.rmdir(self.state)
            except OSError:
                pass


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return False


def child_pids(parent):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(") ", 1)[1].split()
            if int(fields[1]) == parent:
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def psql(url, sql, timeout=30):
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr.strip()}")
    return r.stdout


# ---- the service under test ----

def _die_with_parent():
    # PR_SET_PDEATHSIG = 1: the service gets SIGKILL if this script dies, so nothing leaks.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


class Service:
    """The real binary on port 0; its stdout (JSON log lines) is collected by a thread."""

    def __init__(self, binary, extra_env, start_timeout=60):
        env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent/.env",
               "ENVIRONMENT": "development", "HOST": "127.0.0.1", "PORT": "0", "WORKERS": "2",
               "DATABASE_URL": "sqlite://:memory:", "JWT_SECRET": JWT_SECRET,
               "PASSWORD_HASH_MEMORY_KIB": "8", "PASSWORD_HASH_ITERATIONS": "1",
               "LOG_LEVEL": "info"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(extra_env)
        self.lines = []
        self.stderr_lines = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace",
                                     preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        self.port = None
        started = threading.Event()
        self._reading = threading.Event()  # cleared by pause_stdout(): the pipe fills up
        self._reading.set()

        def pump_out():
            for line in self.proc.stdout:
                self._reading.wait()
                with self._lock:
                    self.lines.append(line)
                if self.port is None:
                    m = re.search(r'"event":"service_started".*"port":(\d+)', line)
                    if m:
                        self.port = int(m.group(1))
                        started.set()
            started.set()

        def pump_err():
            for line in self.proc.stderr:
                with self._lock:
                    self.stderr_lines.append(line)

        threading.Thread(target=pump_out, daemon=True).start()
        threading.Thread(target=pump_err, daemon=True).start()
        started.wait(start_timeout)
        if self.port is None:
            self.stop()
            raise RuntimeError("service did not start:\n" + "".join(self.lines[-20:]) +
                               "".join(self.stderr_lines[-20:]))

    def alive(self):
        return self.proc.poll() is None

    def pause_stdout(self):
        """Stops reading the service's stdout: once the pipe is full, its writes block."""
        self._reading.clear()

    def resume_stdout(self):
        self._reading.set()

    def events(self, name):
        needle = f'"event":"{name}"'
        with self._lock:
            return [l for l in self.lines if needle in l]

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                return None
        return self.proc.returncode


# ---- HTTP ----

def call(port, method, path, body=None, headers=None, timeout=30, conn=None):
    """One request; returns (status, headers dict lower-cased, body bytes). A given keep-alive
    connection is reused; otherwise a fresh one is opened and closed."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if own:
            c.close()


def register(port, email, password="fault-password-1", name="Fault", timeout=30):
    return call(port, "POST", "/api/v1/users/",
                {"email": email, "name": name, "password": password}, timeout=timeout)


def token_for(port, email, password="fault-password-1"):
    s, _, data = call(port, "POST", "/api/v1/auth/token",
                      f"username={email.replace('@', '%40')}&password={password}",
                      {"Content-Type": "application/x-www-form-urlencoded"})
    if s != 200:
        raise RuntimeError(f"login failed: {s} {data[:200]!r}")
    return json.loads(data)["access_token"]


def wait_status(port, path, want, timeout_s, per_request=3):
    """Polls until `path` answers `want` or the deadline passes; returns the last status."""
    deadline = time.monotonic() + timeout_s
    last = None
    for _ in range(100000):
        try:
            last = call(port, "GET", path, timeout=per_request)[0]
        except (OSError, http.client.HTTPException):
            last = None
        if last == want or time.monotonic() > deadline:
            return last
        time.sleep(0.1)
    return last


def envelope_code(body):
    try:
        return json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None


def raw_exchange(port, data, timeout=10, wait_close=True):
    """Sends raw bytes; returns (all bytes received, closed_by_peer). With wait_close, reads
    until the peer closes or `timeout` passes; otherwise stops at the first complete response
    too (a kept-alive connection would never close)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking everything: read the answer
        out = b""
        deadline = time.monotonic() + timeout
        closed = False
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            out += chunk
            if not wait_close and parse_responses(out):
                break
        return out, closed
    finally:
        s.close()


def parse_responses(data):
    """Splits raw bytes into the complete responses [(status, headers dict, body)] in them
    (Content-Length framing only)."""
    out = []
    rest = data
    for _ in range(100):
        if not rest.startswith(b"HTTP/"):
            break
        head, sep, rest = rest.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        if len(rest) < n:
            break  # incomplete
        out.append((status, headers, rest[:n]))
        rest = rest[n:]
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_breakdown(pid, peer_ports):
    """Open fds of `pid` by kind: for TCP sockets the name in `peer_ports` ({remote port:
    name}) of the remote port, "inbound" for accepted connections (remote port not listed and
    not listening), "listen"; sockets not in the TCP tables "unlisted socket"; everything else
    "other" (files, pipes, epoll, eventfd, timers, ...)."""
    inodes = {}
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    remote_port = int(parts[2].rsplit(":", 1)[1], 16)
                    state = parts[3]
                    inodes[parts[9]] = "listen" if state == "0A" else peer_ports.get(
                        remote_port, "inbound")
        except OSError:
            pass
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = "other"
        if target.startswith("socket:["):
            # Not in the TCP tables: a socket just created and not yet connected (a pool
            # connection being opened), or a non-TCP socket.
            kind = inodes.get(target[8:-1], "unlisted socket")
        out[kind] = out.get(kind, 0) + 1
    return out


def crash_lines(svc):
    """Log lines that would mean the process handled an exception as a crash."""
    return svc.events("unhandled_exception")
