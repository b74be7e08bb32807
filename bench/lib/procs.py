"""Process helpers for the benchmark: start children that die with the runner, read their CPU
time and memory from /proc, wait for HTTP readiness. Every wait is bounded by count and time."""
import ctypes
import http.client
import os
import signal
import socket
import subprocess
import time

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _die_with_parent():
    # A child left behind by a crashed runner would keep ports and CPU busy for the next run.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv, env=None, stdout=None, stderr=None, stdin=None):
    return subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr, stdin=stdin,
                            preexec_fn=_die_with_parent)


def stop(proc, sig=signal.SIGTERM, timeout=30):
    """Stops one child by its PID; SIGKILL when it does not exit in time. Returns its exit code."""
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def children(pid):
    """Direct children of a process (nginx's workers), from /proc (proc(5))."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss(pid):
    """Resets VmHWM so that the next reading is the peak of the next phase only (proc(5))."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def http_call(port, method, path, body=None, headers=None, timeout=60.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def http_get(port, path, headers=None, timeout=5.0):
    return http_call(port, "GET", path, None, headers, timeout)


def wait_ready(port, proc, timeout=60.0, interval=0.001):
    """Polls GET /health/ready until it answers 200. Returns the perf_counter time of that answer."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 1):
        if proc.poll() is not None:
            raise RuntimeError(f"service exited with {proc.returncode} before it was ready")
        try:
            status, _ = http_get(port, "/health/ready", timeout=2.0)
            if status == 200:
                return time.perf_counter()
        except OSError:
            pass
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    raise RuntimeError(f"service not ready on port {port} within {timeout} s")
