"""Turns one benchmark run into the table on stdout, bench/results/<timestamp>.json, latest.json
and the chart bench/results/latest.png (gnuplot). A QUICK run is written as <timestamp>-quick.json
and .png (git-ignored) and never replaces latest.*."""
import json
import os
import subprocess

MIB = 1024.0
CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chart.gp")


def _ms(us):
    return us / 1000.0


def _reference(run, name):
    """A reference measured beside the scenarios, or "scenario:<name>": another scenario of the
    run (the same read at 1,000 users for the `scale` phase)."""
    if not name:
        return None
    if name.startswith("scenario:"):
        return next((s for s in run["scenarios"] if s["name"] == name[len("scenario:"):]), None)
    return run["references"].get(name)


def add_ratios(run):
    for s in run["scenarios"]:
        ref = _reference(run, s["reference"])
        s["reference_rps"] = ref["rps"] if ref else None
        s["ratio"] = s["rps"] / ref["rps"] if ref and ref["rps"] else None
        s["other_ratios"] = {}
        for name in s.get("other_references", []):
            other = _reference(run, name)
            if other and other["rps"]:
                s["other_ratios"][name] = s["rps"] / other["rps"]
        s["cpu_us_per_request"] = s["cpu_s"] * 1e6 / s["requests"] if s["requests"] else None


# The Node peer (Fastify, pg, @node-rs/argon2, 2 cluster workers) measured on this machine at its
# defaults, 16 connections: the figures login and register are held to.
NODE_PEER = {"register": 112, "login": 118}


def goals(run):
    """The acceptance goals, each with the measured value and whether it holds."""
    by = {s["name"]: s for s in run["scenarios"]}
    out = []

    def check(text, value, ok):
        out.append({"goal": text, "value": value, "ok": bool(ok)})

    if "live" in by and by["live"]["ratio"] is not None:
        check("live >= 1.0x nginx req/s (same worker count)", f"{by['live']['ratio']:.2f}x",
              by["live"]["ratio"] >= 1.0)
    if "me" in by and by["me"]["ratio"] is not None:
        check("me >= 0.8x the pipelined pgbench reads/s", f"{by['me']['ratio']:.2f}x",
              by["me"]["ratio"] >= 0.8)
    if "get_missing" in by and "get_user" in by:
        check("get_missing >= get_user req/s",
              f"{by['get_missing']['rps']:.0f} vs {by['get_user']['rps']:.0f}",
              by["get_missing"]["rps"] >= by["get_user"]["rps"])
    for name in ("register", "login"):
        if name in by and by[name]["ratio"] is not None:
            check(f"{name} >= 0.85x the @node-rs/argon2 limit (hashes/s, same run)",
                  f"{by[name]['ratio']:.2f}x", by[name]["ratio"] >= 0.85)
            check(f"{name} >= the Node peer's {NODE_PEER[name]} req/s on this machine",
                  f"{by[name]['rps']:.1f}", by[name]["rps"] >= NODE_PEER[name])
    for s in run["scenarios"]:
        if "@" not in s["name"] or s["ratio"] is None:
            continue
        # The scale phase: reads within 10% of their 1,000-user figure, a deep page within 20%
        # of page 1.
        floor = 0.8 if s["reference"].startswith("scenario:list_page1@") else 0.9
        check(f"{s['name']} >= {floor:.1f}x {s['reference'][len('scenario:'):]}",
              f"{s['ratio']:.2f}x", s["ratio"] >= floor)
    for name in ("live", "me", "get_user"):
        if name in by:
            p99 = _ms(by[name]["latency_us"]["p99"])
            check(f"{name} p99 <= 5 ms at {by[name]['connections']} connections", f"{p99:.2f} ms",
                  p99 <= 5.0)
    errors = sum(s["error_count"] for s in run["scenarios"])
    check("no errors in any scenario", str(errors), errors == 0)
    mem = run.get("memory")
    if mem:
        check("idle RSS <= 20 MiB", f"{mem['idle_rss_kib'] / MIB:.1f} MiB",
              mem["idle_rss_kib"] <= 20 * 1024)
        check(f"{mem['connections']} idle connections add <= 40 MiB",
              f"{mem['delta_kib'] / MIB:.1f} MiB", mem["delta_kib"] <= 40 * 1024)
    start = run.get("startup")
    if start:
        check("start-up to ready <= 100 ms on SQLite", f"{start['sqlite']['median_ms']} ms",
              start["sqlite"]["median_ms"] <= 100)
    return out


def table(run):
    lines = []
    w = max([10] + [len(s["name"]) for s in run["scenarios"]])
    head = (f"{'scenario':<{w}} {'conns':>5} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'p99.9 ms':>8} {'errors':>6} {'CPU s':>6} {'CPU us/req':>10} {'peak RSS':>9} "
            f"{'log lines':>9}  reference (req/s) ratio")
    lines.append(head)
    lines.append("-" * len(head))
    for s in run["scenarios"]:
        lat = s["latency_us"]
        ref = ""
        if s["reference"]:
            ref = s["reference"].removeprefix("scenario:")
            ref = f"{ref} ({s['reference_rps']:.0f}) {s['ratio']:.2f}x"
        for name, ratio in s.get("other_ratios", {}).items():
            ref += f"; {name} {ratio:.2f}x"
        lines.append(
            f"{s['name']:<{w}} {s['connections']:>5} {s['rps']:>9.0f} {_ms(lat['p50']):>7.2f} "
            f"{_ms(lat['p99']):>7.2f} {_ms(lat['p99_9']):>8.2f} {s['error_count']:>6} "
            f"{s['cpu_s']:>6.1f} {s['cpu_us_per_request']:>10.0f} "
            f"{s['peak_rss_kib'] / MIB:>7.1f}Mi {s['log_lines']:>9}  {ref}")
    for name, r in run["references"].items():
        lat = r["latency_us"]
        runs = " + ".join(f"{x:.0f}" for x in r.get("runs_rps", []))
        cpu = f", CPU {r['cpu_us_per_request']:.1f} us/req" if "cpu_us_per_request" in r else ""
        runs = f" ({runs})" if runs else ""
        lines.append(f"reference {name}: {r['what']}: mean {r['rps']:.0f}/s{runs}, worst "
                     f"p50 {_ms(lat['p50']):.2f} ms, p99 {_ms(lat['p99']):.2f} ms, p99.9 "
                     f"{_ms(lat['p99_9']):.2f} ms, errors {r['error_count']}{cpu}")
        for alt in r.get("alternatives", []):
            alt_runs = " + ".join(f"{x:.0f}" for x in alt["runs_rps"])
            lines.append(f"  (slower, not the reference: {alt['what']}: mean {alt['rps']:.0f}/s "
                         f"({alt_runs}))")
    mem = run.get("memory")
    if mem:
        lines.append(f"memory: idle RSS {mem['idle_rss_kib'] / MIB:.1f} MiB; with "
                     f"{mem['connections']} idle keep-alive connections "
                     f"{mem['with_connections_rss_kib'] / MIB:.1f} MiB (+{mem['delta_kib'] / MIB:.1f}"
                     f" MiB, {mem['per_connection_bytes']} B each; {mem['failed']} failed); after "
                     f"closing them {mem['after_close_rss_kib'] / MIB:.1f} MiB")
    start = run.get("startup")
    if start:
        lines.append("start-up (" + start["sqlite"]["measure"] + "): " + ", ".join(
            f"{k} median {v['median_ms']} ms (min {v['min_ms']}, max {v['max_ms']}, n={v['runs']})"
            for k, v in start.items()))
    host = run["host"]
    lines.append(f"load average before {' '.join(host['load_before'])}, after "
                 f"{' '.join(host['load_after'])} on {host['cpus']} CPUs; git {run['git']}")
    for g in run["goals"]:
        lines.append(f"  [{'ok' if g['ok'] else 'MISSED'}] {g['goal']}: {g['value']}")
    return "\n".join(lines)


def chart(run, png, work):
    data = os.path.join(work, "chart.dat")
    with open(data, "w") as f:
        # Columns: label, service req/s, reference req/s, p50, p99, p99.9 (ms).
        for s in run["scenarios"]:
            label = s["name"] + (f"\\n{s['ratio']:.2f}x" if s["ratio"] else "")
            lat = s["latency_us"]
            ref = f"{s['reference_rps']:.1f}" if s["reference_rps"] else "NaN"
            f.write(f"\"{label}\" {s['rps']:.1f} {ref} {_ms(lat['p50']):.3f} "
                    f"{_ms(lat['p99']):.3f} {_ms(lat['p99_9']):.3f}\n")
    title = (f"user-service benchmark {run['started']} (git {run['git']}, "
             f"{run['host']['cpus']} CPUs, load {run['host']['load_before'][0]}, "
             f"{run['config']['connections']} connections, {run['config']['duration_s']} s each)")
    subprocess.run(["gnuplot", "-e", f"data='{data}'; out='{png}'; title_text='{title}'", CHART],
                   check=True, timeout=60)


def finish(run, out_dir, quick):
    add_ratios(run)
    run["goals"] = goals(run)
    os.makedirs(out_dir, exist_ok=True)
    stamp = run["started"].replace(":", "").replace("+0000", "Z").replace("+00:00", "Z")
    base = os.path.join(out_dir, stamp + ("-quick" if quick else ""))
    with open(base + ".json", "w") as f:
        json.dump(run, f, indent=2)
    work = os.environ.get("BENCH_WORK", out_dir)
    png = base + ".png" if quick else os.path.join(out_dir, "latest.png")
    chart(run, png, work)
    if not quick:
        with open(os.path.join(out_dir, "latest.json"), "w") as f:
            json.dump(run, f, indent=2)
    print(table(run))
    print(f"results: {base}.json{'' if quick else ' (+ latest.json)'}, chart: {png}")
