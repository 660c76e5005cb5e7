"""Turning sink records into figures: delivered, lost, duplicates, lateness, drain, throughput."""
import os
import time

from bench.procs import CLK_TCK


def percentile(values, q):
    """The q-quantile (0..1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def wait_for(sink, expected, last_due, *, quiet=10.0, hard=240.0, settle=2.0, alive=None):
    """Wait until the sink has seen `expected` requests (then `settle` more seconds, for late
    duplicates), or nothing new arrived for `quiet` seconds after `last_due`, or `hard` seconds
    after it. `alive()` returning False (a scheduler died) ends the wait early."""
    last_count, last_change = -1, time.monotonic()
    while True:
        count = sink.stats()["requests"]
        now_wall = time.time()
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        if count >= expected:
            time.sleep(settle)
            return "complete"
        if now_wall > last_due and time.monotonic() - last_change > quiet and now_wall > last_due + quiet:
            return f"stalled: nothing new for {quiet:g}s"
        if now_wall > last_due + hard:
            return f"gave up {hard:g}s after the last due time"
        if alive is not None and not alive():
            return "a scheduler exited"
        time.sleep(0.25)


def analyse(records, due_by_rid):
    """Figures for the reminders in `due_by_rid` ({reminder_id: due epoch}) from the sink records."""
    first = {}
    by_hook = {}
    unexpected = 0
    for rec in records:
        rid = rec.get("rid")
        if rid not in due_by_rid:
            unexpected += 1
            continue
        by_hook[rec["id"]] = by_hook.get(rec["id"], 0) + 1
        if rid not in first or rec["t"] < first[rid]:
            first[rid] = rec["t"]
    lateness = [first[rid] - due_by_rid[rid] for rid in first]
    duplicates = sum(count - 1 for count in by_hook.values())
    extra_ids = len(by_hook) - len(first)  # a second webhook-id for one reminder: another occurrence id
    due_min = min(due_by_rid.values()) if due_by_rid else None
    due_max = max(due_by_rid.values()) if due_by_rid else None
    last = max(first.values()) if first else None
    # Drain: from the last due instant until the last delivery arrived (a burst has one due instant).
    drain = (last - due_max) if first else None
    out = {
        "expected": len(due_by_rid),
        "delivered": len(first),
        "lost": len(due_by_rid) - len(first),
        "duplicates": duplicates,
        "second_webhook_ids": extra_ids,
        "unexpected_requests": unexpected,
        "early": sum(1 for value in lateness if value < -0.001),
        "lateness_p50": percentile(lateness, 0.50),
        "lateness_p99": percentile(lateness, 0.99),
        "lateness_max": max(lateness) if lateness else None,
        "lateness_min": min(lateness) if lateness else None,
        "drain": drain,
    }
    if first and last - due_min > 0:
        out["throughput"] = len(first) / (last - due_min)
    return out


def pg_server_cpu():
    """CPU seconds used so far by every `postgres` process on this machine (server side of PostgreSQL)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.find("(") + 1: data.rfind(")")]
        if name.startswith("postgres"):
            fields = data.rsplit(")", 1)[1].split()
            # utime+stime, plus cutime+cstime: the postmaster keeps the CPU of backends that exited.
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / CLK_TCK
    return total
