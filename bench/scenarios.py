"""The scenarios: burst, spread, late-create, idle, api — on TiffTock and on the two references."""
import http.client
import json
import os
import random
import select
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

from bench.measure import analyse, percentile, pg_server_cpu, wait_for
from bench.procs import PYTHON, Children, group_cpu_seconds, group_rss_mb, spawn
from bench.stack import API_KEY, Stack, webhook_body

FAR = 30 * 86400  # "far future": nothing the benchmark stores as background is due during a run


class Context:
    """What every scenario needs: the sink, where records go, the sizes, and a logger."""

    def __init__(self, sink, outdir, sizes, log):
        self.sink = sink
        self.outdir = outdir
        self.sizes = sizes
        self.log = log
        self.seq = 0

    def records_path(self, label):
        self.seq += 1
        return os.path.join(self.outdir, f"{self.seq:02d}-{label}.jsonl")


def sleep_until(epoch):
    delay = epoch - time.time()
    if delay > 0:
        time.sleep(delay)


def read_line(proc, timeout):
    """One line of a child's stdout within `timeout` seconds (RuntimeError otherwise)."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError(f"{' '.join(map(str, proc.args[:4]))} said nothing for {timeout:g}s")
    line = proc.stdout.readline().decode().strip()
    if not line:
        raise RuntimeError(f"{' '.join(map(str, proc.args[:4]))} exited ({proc.poll()})")
    return line


class CpuMeter:
    """CPU seconds used between start() and stop() by named sources (callables returning a counter)."""

    def __init__(self, **sources):
        self.sources = sources
        self.begin = {}

    def start(self):
        self.begin = {name: fn() for name, fn in self.sources.items()}

    def stop(self):
        out = {}
        for name, fn in self.sources.items():
            try:
                out[name] = round(fn() - self.begin[name], 2)
            except (OSError, KeyError):
                out[name] = None
        return out


def collect(ctx, label, due_by_rid, meter, alive=None, hard=240.0, sink=None):
    """Wait for the deliveries of `due_by_rid`, then analyse the sink's records."""
    sink = sink or ctx.sink
    due_first = min(due_by_rid.values())
    last_due = max(due_by_rid.values())
    sleep_until(due_first - 0.3)
    meter.start()
    status = wait_for(sink, len(due_by_rid), last_due, quiet=15.0, hard=hard, alive=alive)
    cpu = meter.stop()
    stats = sink.stats()
    records = sink.records(ctx.records_path(label))
    result = analyse(records, due_by_rid)
    result.update(status=status, cpu_s=cpu, sink_connections=stats["connections"], sink_bad=stats["bad"])
    return result


def meter_for_stack(ctx, stack):
    sources = {"scheduler": stack.scheduler_cpu, "sink": lambda: ctx.sink.stats()["cpu"]}
    if stack.kind == "postgres":
        sources["postgres_server"] = pg_server_cpu
    return CpuMeter(**sources)


# --- TiffTock -------------------------------------------------------------------------------------

def seconds_per_created(stack, ctx):
    """Seconds per reminder through the batch route with `api_workers` requests at a time, timed once
    per stack with far-future reminders (used to choose a due time that creation will not overrun)."""
    if getattr(stack, "batch_seconds_per_item", None) is None:
        chunk = 200
        count = chunk * max(1, stack.api_workers)
        far = time.time() + FAR
        bodies = [webhook_body(ctx.sink.url, far + i, "probe") for i in range(count)]
        started = time.monotonic()
        stack.create_batch(bodies, chunk=chunk, parallel=stack.api_workers)
        stack.batch_seconds_per_item = (time.monotonic() - started) / count
    return stack.batch_seconds_per_item


def timed_create(stack, ctx, offsets, margin, label):
    """Create one-off webhook reminders due at T + offset through the batch route; T is chosen so
    that creation ends `margin` seconds before T. Returns (due_by_rid, T, seconds creating, slack)."""
    per_item = seconds_per_created(stack, ctx)
    due = time.time() + per_item * len(offsets) * 1.1 + margin
    whens = [round(due + offset, 3) for offset in offsets]
    bodies = [webhook_body(ctx.sink.url, when, f"{label} {i}") for i, when in enumerate(whens)]
    ctx.sink.reset()
    started = time.time()
    # As many batch requests at a time as gunicorn has workers: set-up, not the figure measured here.
    ids = stack.create_batch(bodies, parallel=stack.api_workers)
    created = time.time()
    return dict(zip(ids, whens)), due, created - started, min(whens) - created


def burst(stack, ctx):
    n = ctx.sizes["burst"]
    due_by_rid, _due, creating, slack = timed_create(stack, ctx, [0.0] * n, ctx.sizes["burst_margin"], "burst")
    ctx.log(f"    {n} created through the batch route in {creating:.1f}s; due {slack:.1f}s later")
    result = collect(ctx, f"{stack.label}-burst", due_by_rid, meter_for_stack(ctx, stack), alive=stack.alive)
    result.update(create_s=round(creating, 2), slack_s=round(slack, 2))
    return result


def spread(stack, ctx):
    n, span = ctx.sizes["spread"], ctx.sizes["spread_span"]
    offsets = [i * span / n for i in range(n)]
    due_by_rid, _due, creating, slack = timed_create(stack, ctx, offsets, 3.0, "spread")
    result = collect(ctx, f"{stack.label}-spread", due_by_rid, meter_for_stack(ctx, stack), alive=stack.alive)
    result.update(create_s=round(creating, 2), slack_s=round(slack, 2), span_s=span)
    return result


def late_create(stack, ctx):
    """Single creates, each due a random 0–2 s after it is sent (fixed seed), 50 per second."""
    n = ctx.sizes["late"]
    rng = random.Random(5)
    ctx.sink.reset()
    due_by_rid, latencies, past = {}, [], 0
    start = time.time() + 0.5
    meter = meter_for_stack(ctx, stack)
    meter.start()
    for i in range(n):
        sleep_until(start + i * 0.02)
        when = round(time.time() + rng.uniform(0.0, 2.0), 3)
        sent = time.time()
        reminder = stack.create(webhook_body(ctx.sink.url, when, f"late {i}"))
        done = time.time()
        latencies.append(done - sent)
        past += done > when
        due_by_rid[reminder["id"]] = when
    status = wait_for(ctx.sink, n, max(due_by_rid.values()), quiet=15.0, hard=60.0, alive=stack.alive)
    cpu = meter.stop()
    result = analyse(ctx.sink.records(ctx.records_path(f"{stack.label}-late")), due_by_rid)
    result.pop("drain", None)
    result.pop("throughput", None)
    result.update(status=status, cpu_s=cpu, create_latency_p50=percentile(latencies, 0.5),
                  create_latency_p99=percentile(latencies, 0.99), answered_after_due=past)
    return result


def api(stack, ctx, batch=True):
    """Creates per second: `threads` clients making single creates for `seconds`, then (when `batch`)
    a 10,000 batch as 10 sequential requests of 1,000 from one client."""
    threads, seconds = ctx.sizes["api_threads"], ctx.sizes["api_seconds"]
    far = time.time() + FAR
    counts, errors, latencies = [0] * threads, [], [[] for _ in range(threads)]
    stop = threading.Event()

    def client(index):
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
        headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
        i = 0
        while not stop.is_set():
            i += 1
            body = json.dumps(webhook_body(ctx.sink.url, far + index * 1e5 + i, f"api {index}.{i}"))
            sent = time.perf_counter()
            try:
                conn.request("POST", "/reminders", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
                continue
            if response.status == 201:
                counts[index] += 1
                latencies[index].append(time.perf_counter() - sent)
            else:
                errors.append(f"HTTP {response.status}")
        conn.close()

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(threads)]
    api_cpu = lambda: group_cpu_seconds(stack.api.pid)  # noqa: E731 - gunicorn master and workers
    own = os.times()
    cpu0 = api_cpu()
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    elapsed = time.perf_counter() - started
    created = sum(counts)
    api_cpu_s = api_cpu() - cpu0
    now_times = os.times()
    client_cpu_s = (now_times.user + now_times.system) - (own.user + own.system)
    flat = [value for values in latencies for value in values]
    result = {
        "single_threads": threads,
        "single_seconds": round(elapsed, 2),
        "single_created": created,
        "single_per_s": created / elapsed,
        "single_latency_p50": percentile(flat, 0.5),
        "single_latency_p99": percentile(flat, 0.99),
        "single_errors": len(errors),
        "api_cpu_ms_per_create": 1000 * api_cpu_s / max(created, 1),
        "client_cpu_ms_per_create": 1000 * client_cpu_s / max(created, 1),
        "single_error_sample": errors[:3],
        "gunicorn_workers": stack.api_workers,
    }
    if not batch:
        return result
    size, chunk = ctx.sizes["api_batch"], 1000
    bodies = [webhook_body(ctx.sink.url, far + 1e7 + i, f"batch {i}") for i in range(size)]
    cpu0 = api_cpu()
    started = time.perf_counter()
    stack.create_batch(bodies, chunk=chunk)
    result.update(batch_size=size, batch_requests=f"{-(-size // chunk)} x {chunk}, one client, sequential",
                  batch_s=time.perf_counter() - started, batch_api_cpu_s=round(api_cpu() - cpu0, 2))
    return result


# --- idle -----------------------------------------------------------------------------------------

class IdleProbe:
    """One scheduler over many stored future reminders: its CPU over a window and its RSS.

    Windows are delimited by the caller (begin/end) so they can run while other, unrelated
    work proceeds: the CPU figure is the scheduler's own /proc counter, which other processes'
    load does not add to. Rows are cloned with SQL from one reminder created through the API.
    """

    def __init__(self, templates, kind, logdir, label):
        self.stack = Stack(templates, kind, 1, label, logdir)
        self.kind = kind
        self.stored = 0
        self.windows = []
        self.engine = None
        self.window_start = None

    def setup(self, sink_url, count):
        import sqlalchemy as sa

        self.stack.start_api()
        template = self.stack.create(webhook_body(sink_url, time.time() + FAR, "idle"))
        connect_args = {"timeout": 30} if self.kind == "sqlite" else {}
        self.engine = sa.create_engine(self.stack.url, connect_args=connect_args)
        self.table = sa.Table("reminders", sa.MetaData(), autoload_with=self.engine)
        with self.engine.connect() as conn:
            self.row = dict(conn.execute(sa.select(self.table).where(self.table.c.id == template["id"])).mappings().one())
        self.stored = 1
        self.grow(count)
        self.stack.start_schedulers()

    def grow(self, count):
        """Store future reminders until `count` exist (cloned rows, due 2–32 days from now)."""
        when_key = self.row["when_at"]
        same_instant = [name for name, value in self.row.items() if value is not None and value == when_key]
        base = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=2)
        rows = []
        for i in range(self.stored, count):
            row = {name: value for name, value in self.row.items() if name != "id"}
            at = base + timedelta(seconds=i * 26)
            for name in same_instant:
                row[name] = at
            row["message"] = f"idle {i}"
            rows.append(row)
        with self.engine.begin() as conn:
            for start in range(0, len(rows), 5000):
                conn.execute(self.table.insert(), rows[start:start + 5000])
        self.stored = count

    def sources(self):
        pgid = self.stack.schedulers[0].pid
        return pgid, group_cpu_seconds(pgid), time.monotonic()

    def begin(self, settle=3.0):
        time.sleep(settle)
        self.window_start = self.sources()

    def end(self, seconds):
        """Close the window after at least `seconds`; record CPU share and memory."""
        pgid, cpu0, t0 = self.window_start
        remaining = t0 + seconds - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        _, cpu1, t1 = self.sources()
        window = {
            "stored": self.stored,
            "window_s": round(t1 - t0, 1),
            "cpu_s": round(cpu1 - cpu0, 3),
            "cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
            "rss_mb": round(group_rss_mb(pgid), 1),
            "peak_rss_mb": round(group_rss_mb(pgid, "VmHWM"), 1),
            "alive": self.stack.alive(),
        }
        self.windows.append(window)
        return window

    def close(self):
        if self.engine is not None:
            self.engine.dispose()
        self.stack.stop()


# --- references -----------------------------------------------------------------------------------

class Reference:
    """One reference (`plain` or `aps`, see bench.refs) driving a workload against `sink`."""

    def __init__(self, ctx, sink, kind, offsets, lead, label, workdir, workers):
        self.ctx, self.sink, self.kind, self.offsets, self.label = ctx, sink, kind, offsets, label
        path = os.path.join(workdir, f"workload-{label}.json")
        with open(path, "w") as f:
            json.dump({"offsets": offsets, "lead": lead}, f)
        args = [PYTHON, "-m", "bench.refs", kind, path, sink.url]
        self.db_file = os.path.join(workdir, f"aps-{label}.sqlite") if kind == "aps" else None
        if self.db_file:
            args.append(self.db_file)
        sink.reset()
        self.proc = spawn(args, stdout=subprocess.PIPE, log=os.path.join(workdir, f"ref-{label}.log"),
                          env={**os.environ, "BENCH_REF_WORKERS": str(workers)})
        self.workers = workers
        self.due = float(read_line(self.proc, 60).split()[1])

    def result(self):
        """Wait until the set-up is done and the deliveries are in; the figures."""
        try:
            created = float(read_line(self.proc, 600).split()[1])
            due_by_rid = {i + 1: self.due + offset for i, offset in enumerate(self.offsets)}
            meter = CpuMeter(sender=lambda: group_cpu_seconds(self.proc.pid), sink=lambda: self.sink.stats()["cpu"])
            alive = (lambda: self.proc.poll() is None) if self.kind == "aps" else None
            result = collect(self.ctx, self.label, due_by_rid, meter, alive=alive, hard=400.0, sink=self.sink)
            result.update(slack_s=round(self.due + min(self.offsets) - created, 2), workers=self.workers)
            return result
        finally:
            self.close()

    def close(self):
        Children.stop(self.proc, grace=5)
        if self.db_file:
            for suffix in ("", "-journal", "-wal", "-shm"):
                try:
                    os.remove(self.db_file + suffix)
                except FileNotFoundError:
                    pass


def reference(ctx, kind, offsets, lead, label, workdir, workers):
    """Drive a workload through one reference against the context's sink."""
    return Reference(ctx, ctx.sink, kind, offsets, lead, label, workdir, workers).result()


def references_side_by_side(ctx, sinks, offsets, lead, label, workdir, workers):
    """Both references on the same workload at the same time, each with its own sink: for the light
    spread workload (17 requests/s each), which would otherwise take two minutes one after the other.
    APScheduler starts first (it needs time to fill its job store); the plain loop is given the
    same due instant."""
    aps = Reference(ctx, sinks[1], "aps", offsets, lead, f"{label}-aps", workdir, workers)
    try:
        plain = Reference(ctx, sinks[0], "plain", offsets, max(0.5, aps.due - time.time()), f"{label}-plain",
                          workdir, workers)
    except Exception:
        aps.close()
        raise
    results = {}

    def run(name, ref):
        try:
            results[name] = ref.result()
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            results[name] = exc

    threads = [threading.Thread(target=run, args=item) for item in (("plain loop", plain), ("APScheduler alone", aps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, result in results.items():
        if isinstance(result, dict):
            result["side_by_side"] = True
    return results


def sink_capacity(ctx, seconds=3.0, connections=8):
    """Requests per second the sink answers to a cheap pipelining client in another process."""
    ctx.sink.reset()
    proc = spawn([PYTHON, "-m", "bench.load", str(ctx.sink.port), str(seconds), str(connections)],
                 stdout=subprocess.PIPE)
    try:
        before = ctx.sink.stats()["cpu"]
        line = read_line(proc, seconds + 30)
        sink_cpu = ctx.sink.stats()["cpu"] - before
        sent = json.loads(line)
    finally:
        Children.stop(proc, grace=3)
    answered = ctx.sink.stats()["requests"]
    ctx.sink.reset()
    return {"requests": answered, "seconds": sent["seconds"], "per_s": answered / sent["seconds"],
            "sink_cpu_s": round(sink_cpu, 2), "sink_cpu_ms_per_request": 1000 * sink_cpu / max(answered, 1)}
