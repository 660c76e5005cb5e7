"""Tables, ratios, targets (PASS/MISS) and the machine description of a benchmark run."""
import json
import os
import platform
import sqlite3
import subprocess
from importlib import metadata

from bench.procs import ROOT


def ms(value):
    return "–" if value is None else f"{value * 1000:.0f}" if abs(value) >= 0.1 else f"{value * 1000:.1f}"


def num(value, fmt="{:.0f}"):
    return "–" if value is None else fmt.format(value)


def table(headers, rows):
    """A GitHub-flavoured Markdown table (also readable in a terminal)."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in cells[1:]]
    return "\n".join(out)


def delivery_row(name, r):
    cpu = r.get("cpu_s") or {}
    sender = cpu.get("scheduler", cpu.get("sender"))
    return [name, f"{r['delivered']}/{r['expected']}", r["lost"], r["duplicates"], num(r.get("drain"), "{:.2f}"),
            num(r.get("throughput")), ms(r.get("lateness_p50")), ms(r.get("lateness_p99")), ms(r.get("lateness_max")),
            num(sender, "{:.1f}"),
            num(1000 * sender / r["delivered"] if sender is not None and r["delivered"] else None, "{:.2f}"),
            num(cpu.get("postgres_server"), "{:.1f}")]


DELIVERY_HEADERS = ["setup", "delivered", "lost", "dup", "drain s", "per s", "p50 ms", "p99 ms", "max ms",
                    "sender CPU s", "CPU ms/delivery", "PG server CPU s"]


def one_line(scenario, name, r):
    """The line printed as each scenario finishes."""
    if scenario in ("burst", "spread"):
        return (f"{scenario:<11} {name:<22} {r['delivered']}/{r['expected']} lost {r['lost']} dup {r['duplicates']} "
                f"drain {num(r.get('drain'), '{:.2f}')}s {num(r.get('throughput'))}/s "
                f"p50 {ms(r.get('lateness_p50'))}ms p99 {ms(r.get('lateness_p99'))}ms max {ms(r.get('lateness_max'))}ms"
                f" [{r.get('status')}]")
    if scenario == "late-create":
        return (f"{scenario:<11} {name:<22} {r['delivered']}/{r['expected']} lost {r['lost']} dup {r['duplicates']} "
                f"p50 {ms(r.get('lateness_p50'))}ms p99 {ms(r.get('lateness_p99'))}ms max {ms(r.get('lateness_max'))}ms"
                f" create p50 {ms(r.get('create_latency_p50'))}ms [{r.get('status')}]")
    if scenario == "idle":
        return (f"{scenario:<11} {name:<22} {r['stored']} stored: CPU {r['cpu_pct']:.2f}% of a core over "
                f"{r['window_s']:.0f}s, RSS {r['rss_mb']:.0f} MB")
    if scenario == "api":
        return (f"{scenario:<11} {name:<22} {r['single_per_s']:.0f} single creates/s ({r['single_threads']} threads, "
                f"p50 {ms(r['single_latency_p50'])}ms, {r['single_errors']} errors, API CPU {r.get('api_cpu_ms_per_create', 0):.1f} ms each); "
                f"{r['batch_size']} batch in {r['batch_s']:.2f}s ({r['batch_requests']})")
    if scenario == "sink":
        return f"{scenario:<11} {name:<22} {r['per_s']:.0f} requests/s answered, {r['sink_cpu_ms_per_request']:.3f} ms CPU each"
    return f"{scenario} {name}: {json.dumps(r)[:200]}"


def targets(results):
    """[(target, figure, PASS/MISS/n/a)] for every target of issue 5 the run has data for."""
    out = []
    get = lambda scenario, name: results.get(scenario, {}).get(name)  # noqa: E731
    burst = results.get("burst", {})
    plain = get("burst", "plain loop")
    for name, r in burst.items():
        if name in ("plain loop", "APScheduler alone"):
            continue
        ok = r["lost"] == 0 and r["duplicates"] == 0
        out.append((f"burst {name}: 0 lost, 0 duplicates", f"{r['lost']} lost, {r['duplicates']} dup", ok))
    sq = get("burst", "TiffTock SQLite 1s")
    if sq and plain and plain.get("throughput"):
        ratio = (sq.get("throughput") or 0) / plain["throughput"]
        out.append(("burst SQLite throughput ≥ 70 % of the plain loop", f"{ratio:.0%}", ratio >= 0.70))
    pg1, pg2 = get("burst", "TiffTock PG 1s"), get("burst", "TiffTock PG 2s")
    if pg1 and pg2:
        ratio = (pg2.get("throughput") or 0) / max(pg1.get("throughput") or 1e-9, 1e-9)
        out.append(("burst PG: 2 schedulers faster than 1", f"×{ratio:.2f}", ratio > 1.0))
    aps = get("spread", "APScheduler alone")
    for name, r in results.get("spread", {}).items():
        if not name.startswith("TiffTock"):
            continue
        p99 = r.get("lateness_p99")
        out.append((f"spread {name}: p99 ≤ 50 ms, 0 lost", f"p99 {ms(p99)} ms, {r['lost']} lost",
                    p99 is not None and p99 <= 0.050 and r["lost"] == 0))
        if aps and aps.get("lateness_p99") is not None and p99 is not None:
            ahead = p99 <= aps["lateness_p99"] and (r.get("drain") or 1e9) <= (aps.get("drain") or 0)
            out.append((f"spread {name}: ahead of APScheduler alone on p99 and drain",
                        f"p99 {ms(p99)} vs {ms(aps['lateness_p99'])} ms, drain {num(r.get('drain'), '{:.2f}')} vs "
                        f"{num(aps.get('drain'), '{:.2f}')} s", ahead))
    for name, r in results.get("late-create", {}).items():
        limit = 1.1 if "SQLite" in name else 0.100
        p99 = r.get("lateness_p99")
        out.append((f"late-create {name}: 0 lost, p99 ≤ {ms(limit)} ms", f"{r['lost']} lost, p99 {ms(p99)} ms",
                    r["lost"] == 0 and p99 is not None and p99 <= limit))
    for name, windows in results.get("idle", {}).items():
        if not windows:
            continue
        worst_cpu = max(w["cpu_pct"] for w in windows)
        worst_rss = max(w["rss_mb"] for w in windows)
        out.append((f"idle {name}: < 1 % of a core", " → ".join(f"{w['cpu_pct']:.2f} %" for w in windows), worst_cpu < 1.0))
        out.append((f"idle {name}: < 150 MB RSS", " → ".join(f"{w['rss_mb']:.0f} MB" for w in windows), worst_rss < 150))
        if len(windows) >= 2:
            a, b = windows[0], windows[-1]
            # Flat: 10× the rows may cost at most +0.2 points of a core and +20 MB.
            flat = b["cpu_pct"] <= a["cpu_pct"] + 0.2 and b["rss_mb"] <= a["rss_mb"] + 20
            out.append((f"idle {name}: flat {a['stored']:,} → {b['stored']:,} stored (≤ +0.2 pt CPU, ≤ +20 MB)",
                        f"{b['cpu_pct'] - a['cpu_pct']:+.2f} pt, {b['rss_mb'] - a['rss_mb']:+.0f} MB", flat))
    for name, r in results.get("api", {}).items():
        if "SQLite" not in name:
            continue
        out.append((f"api {name}: ≥ 500 single creates/s", f"{r['single_per_s']:.0f}/s", r["single_per_s"] >= 500))
        out.append((f"api {name}: {r['batch_size']:,} batch ≤ 2 s", f"{r['batch_s']:.2f} s", r["batch_s"] <= 2.0))
    return [(t, f, "PASS" if ok else "MISS") for t, f, ok in out]


def ratios(results):
    """The comparisons issue 5 asks for, as (what, value) lines."""
    out = []
    get = lambda scenario, name: results.get(scenario, {}).get(name) or {}  # noqa: E731
    plain = get("burst", "plain loop").get("throughput")
    for name, r in results.get("burst", {}).items():
        if name != "plain loop" and plain and r.get("throughput"):
            out.append((f"burst throughput {name} / plain loop", f"{r['throughput'] / plain:.0%}"))
    pg1, pg2 = get("burst", "TiffTock PG 1s").get("throughput"), get("burst", "TiffTock PG 2s").get("throughput")
    if pg1 and pg2:
        out.append(("burst throughput PG 2 schedulers / 1", f"×{pg2 / pg1:.2f}"))
    aps_burst = get("burst", "APScheduler alone")
    for name, r in results.get("burst", {}).items():
        if name.startswith("TiffTock") and aps_burst.get("throughput") and r.get("throughput"):
            out.append((f"burst throughput {name} / APScheduler alone",
                         f"×{r['throughput'] / aps_burst['throughput']:.1f}"))
    aps = get("spread", "APScheduler alone")
    for name, r in results.get("spread", {}).items():
        if name.startswith("TiffTock") and aps.get("lateness_p99") and r.get("lateness_p99") is not None:
            out.append((f"spread p99 {name} vs APScheduler alone",
                        f"{ms(r['lateness_p99'])} ms vs {ms(aps['lateness_p99'])} ms"))
            out.append((f"spread drain {name} vs APScheduler alone",
                        f"{num(r.get('drain'), '{:.2f}')} s vs {num(aps.get('drain'), '{:.2f}')} s"))
    return out


def tables(results):
    """Every table of the run as Markdown."""
    parts = []
    for scenario in ("burst", "spread"):
        if results.get(scenario):
            rows = [delivery_row(name, r) for name, r in results[scenario].items()]
            parts.append(f"**{scenario}**\n\n" + table(DELIVERY_HEADERS, rows))
    if results.get("late-create"):
        rows = [[name, f"{r['delivered']}/{r['expected']}", r["lost"], r["duplicates"], ms(r.get("lateness_p50")),
                 ms(r.get("lateness_p99")), ms(r.get("lateness_max")), ms(r.get("create_latency_p50")),
                 ms(r.get("create_latency_p99")), r.get("answered_after_due", "–")]
                for name, r in results["late-create"].items()]
        parts.append("**late-create**\n\n" + table(
            ["setup", "delivered", "lost", "dup", "p50 ms", "p99 ms", "max ms", "create p50 ms", "create p99 ms",
             "created after due"], rows))
    if results.get("idle"):
        rows = [[name, f"{w['stored']:,}", f"{w['window_s']:.0f}", f"{w['cpu_s']:.2f}", f"{w['cpu_pct']:.2f}",
                 f"{w['rss_mb']:.0f}", f"{w['peak_rss_mb']:.0f}"]
                for name, windows in results["idle"].items() for w in windows]
        parts.append("**idle**\n\n" + table(
            ["setup", "stored", "window s", "CPU s", "% of a core", "RSS MB", "peak RSS MB"], rows))
    if results.get("api"):
        rows = [[name, f"{r['single_per_s']:.0f}", f"{r['single_threads']}", ms(r["single_latency_p50"]),
                 ms(r["single_latency_p99"]), r["single_errors"], num(r.get("api_cpu_ms_per_create"), "{:.1f}"),
                 f"{r['batch_s']:.2f}", r["batch_requests"]]
                for name, r in results["api"].items()]
        parts.append("**api**\n\n" + table(
            ["setup", "single creates/s", "client threads", "p50 ms", "p99 ms", "errors", "API CPU ms/create",
             "10k batch s", "batch as"], rows))
    return "\n\n".join(parts)


def machine():
    """What the run ran on."""
    info = {"python": platform.python_version(), "kernel": platform.release(), "cpus": os.cpu_count(),
            "sqlite": sqlite3.sqlite_version}
    try:
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
        with open("/proc/meminfo") as f:
            info["memory_gb"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
        with open("/etc/os-release") as f:
            info["os"] = next((line.split("=", 1)[1].strip().strip('"') for line in f if line.startswith("PRETTY_NAME")), "")
    except (OSError, StopIteration):
        pass
    for package in ("Flask", "SQLAlchemy", "psycopg", "gunicorn", "requests", "APScheduler"):
        try:
            info.setdefault("packages", {})[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                        text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "app", "scheduler.py", "migrations"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["uncommitted_app_changes"] = bool(dirty)
    except OSError:
        pass
    return info


def machine_line(info):
    return (f"{info.get('cpu', '?')}, {info.get('cpus_usable', info.get('cpus'))} cores, {info.get('memory_gb', '?')} GB RAM, "
            f"{info.get('os', '?')} (Linux {info.get('kernel')}), Python {info.get('python')}, SQLite {info.get('sqlite')}, "
            f"PostgreSQL {info.get('postgres', '–')}; commit {info.get('commit', '?')}"
            + (" + uncommitted app changes" if info.get("uncommitted_app_changes") else ""))
