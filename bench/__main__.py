"""`make bench` / `python -m bench`: TiffTock's delivery and API benchmark (issue 5).

Scenarios: burst, spread, late-create, idle, api — on SQLite with one scheduler and on
PostgreSQL with one and two — plus the two references (a plain requests thread-pool loop and
APScheduler 3 alone) on the same burst and spread workloads and the same sink. Prints a line
per scenario, then the tables, ratios and targets, and writes bench/results/<timestamp>.json
(and .md). Everything listens on 127.0.0.1; every process started is stopped at the end.

    python -m bench                       # the full run (under 10 minutes on 2 cores)
    python -m bench --quick               # small sizes, a couple of minutes
    python -m bench --only burst,spread   # some scenarios (refs come with burst/spread)
    python -m bench --configs sqlite-1    # some configurations
    python -m bench --set POLL_SECONDS=0.2  # a TiffTock setting for every process it starts

Order and overlaps (to fit 10 minutes on 2 cores): the idle windows are measured while other,
unrelated phases run (the references on the SQLite idle stack, the TiffTock configurations on
the PostgreSQL one), so the 60 s windows cost no extra time — the figure is the idle scheduler's
own CPU counter from /proc, which another process's load does not add to (`--no-overlap`
measures them alone). The two reference spreads (17 requests/s each) run side by side with a
sink each (`--refs-one-by-one` to serialise them). APScheduler alone, which drains a burst at
the speed of one fsync per job, gets a burst of 3,000 (`--aps-burst`).
"""
import argparse
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from datetime import datetime

from bench import report, scenarios
from bench.procs import ROOT, Children, Sink
from bench.stack import Stack, Templates, base_env, effective_settings, pg_admin, pg_available, pg_sweep

# APScheduler alone drains a burst at the speed of one fsync per job (~75-120 jobs/s on this kind of
# disk, flat in the burst size): its burst is 3,000 jobs so the run fits in 10 minutes; --aps-burst changes it.
FULL = {"burst": 10_000, "aps_burst": 3_000, "burst_margin": 4.0, "spread": 1_000, "spread_span": 60.0, "late": 200,
        "idle": (10_000, 100_000), "idle_window": 60.0, "idle_window_pg": 60.0,
        "api_threads": 8, "api_seconds": 10.0, "api_batch": 10_000, "ref_lead": 2.0}
QUICK = {"burst": 2_000, "aps_burst": 1_000, "burst_margin": 3.0, "spread": 200, "spread_span": 15.0, "late": 50,
         "idle": (2_000, 20_000), "idle_window": 10.0, "idle_window_pg": 10.0,
         "api_threads": 8, "api_seconds": 3.0, "api_batch": 2_000, "ref_lead": 1.0}
SCENARIOS = ("burst", "late-create", "spread", "api", "idle")
CONFIGS = {"sqlite-1": ("sqlite", 1, "TiffTock SQLite 1s"), "pg-1": ("postgres", 1, "TiffTock PG 1s"),
           "pg-2": ("postgres", 2, "TiffTock PG 2s")}
# Per configuration, what runs by default (to fit 10 minutes on 2 cores): spread on PG runs with
# one scheduler (the spread is 17 reminders/s: a second scheduler has nothing to share); the
# API does not depend on the number of schedulers; idle runs once per database.
DEFAULT_MATRIX = {"sqlite-1": ("burst", "late-create", "spread", "api"), "pg-1": ("burst", "late-create", "spread", "api"),
                  "pg-2": ("burst", "late-create")}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for development")
    parser.add_argument("--only", default="", help=f"comma list of {', '.join(SCENARIOS)}, refs, sink")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma list of sqlite-1, pg-1, pg-2")
    parser.add_argument("--full", action="store_true", help="every scenario on every configuration (longer)")
    parser.add_argument("--no-refs", action="store_true", help="skip the plain-loop and APScheduler references")
    parser.add_argument("--no-overlap", action="store_true", help="measure idle windows alone, not during other phases")
    parser.add_argument("--refs-one-by-one", action="store_true",
                        help="run the two reference spreads one after the other (default: side by side, own sinks)")
    parser.add_argument("--aps-burst", type=int, help="burst size for APScheduler alone (default 3,000; --quick 1,000)")
    parser.add_argument("--api-workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a TiffTock setting for every TiffTock process")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (SQLite files)")
    return parser.parse_args(argv)


class Tee:
    """Copy what the run prints to a file as well (bench/results/<stamp>/console.log)."""

    def __init__(self, stream, path):
        self.stream = stream
        self.file = open(path, "a")

    def write(self, text):
        self.stream.write(text)
        self.file.write(text)
        return len(text)

    def flush(self):
        self.stream.flush()
        self.file.flush()


class Run:
    def __init__(self, args):
        self.args = args
        self.sizes = dict(QUICK if args.quick else FULL)
        if args.aps_burst:
            self.sizes["aps_burst"] = args.aps_burst
        self.only = {s.strip() for s in args.only.split(",") if s.strip()}
        unknown = self.only - set(SCENARIOS) - {"refs", "sink"}
        if unknown:
            sys.exit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
        self.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
        for config in self.configs:
            if config not in CONFIGS:
                sys.exit(f"unknown configuration {config!r}")
        self.overrides = dict(item.split("=", 1) for item in args.set)
        self.stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.resultdir = ROOT / "bench" / "results"
        self.rundir = self.resultdir / self.stamp
        self.rundir.mkdir(parents=True, exist_ok=True)
        sys.stdout = Tee(sys.__stdout__, self.rundir / "console.log")
        self.workdir = tempfile.mkdtemp(prefix="tifftock-bench-")
        self.results = {}
        self.problems = []
        self.started = time.monotonic()
        self.info = {}

    def wants(self, scenario):
        return not self.only or scenario in self.only

    def log(self, text):
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def record(self, scenario, name, result):
        self.results.setdefault(scenario, {})[name] = result
        self.log(report.one_line(scenario, name, result))

    def attempt(self, what, fn, *args):
        """Run one scenario; a failure is recorded and the run goes on."""
        try:
            return fn(*args)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not lose the others
            self.problems.append(f"{what}: {type(exc).__name__}: {exc}")
            self.log(f"FAILED {what}: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
            return None

    # --- phases ------------------------------------------------------------------------------
    def references(self, ctx, workload):
        workers = int(self.info.get("settings", {}).get("WORKERS") or 32)
        if workload == "burst":
            offsets = [0.0] * self.sizes["burst"]
        else:
            n, span = self.sizes["spread"], self.sizes["spread_span"]
            offsets = [i * span / n for i in range(n)]
        if workload == "spread" and not self.args.refs_one_by_one:
            sinks = [self.sink, Sink(log=self.rundir / "sink2.log")]
            try:
                both = self.attempt("spread references", scenarios.references_side_by_side, ctx, sinks, offsets,
                                    self.sizes["ref_lead"], "spread", self.workdir, workers) or {}
            finally:
                sinks[1].close()
            for name in ("plain loop", "APScheduler alone"):
                result = both.get(name)
                if result is None:
                    continue
                if isinstance(result, dict):
                    self.record(workload, name, result)
                else:
                    self.problems.append(f"spread {name}: {type(result).__name__}: {result}")
                    self.log(f"FAILED spread {name}: {result}")
            return
        for kind, name in (("plain", "plain loop"), ("aps", "APScheduler alone")):
            if kind == "aps" and workload == "burst":
                offsets = offsets[: self.sizes["aps_burst"]]
            result = self.attempt(f"{workload} {name}", scenarios.reference, ctx, kind, offsets, self.sizes["ref_lead"],
                                  f"{workload}-{kind}", self.workdir, workers)
            if result:
                self.record(workload, name, result)

    def idle_start(self, templates, kind, label):
        if not self.wants("idle"):
            return None
        probe = scenarios.IdleProbe(templates, kind, self.rundir, label)
        try:
            probe.setup(self.sink.url, self.sizes["idle"][0])
            probe.begin()
            self.log(f"idle {label}: {probe.stored:,} reminders stored, window open")
            return probe
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"idle {label}: {type(exc).__name__}: {exc}")
            self.log(f"FAILED idle {label}: {exc}")
            probe.close()
            return None

    def idle_step(self, probe, name, window, grow):
        """Close the current window; grow the stored rows and open the next one when `grow`."""
        if probe is None:
            return
        try:
            result = probe.end(window)
            self.results.setdefault("idle", {}).setdefault(name, []).append(result)
            self.log(report.one_line("idle", name, result))
            if grow:
                probe.grow(self.sizes["idle"][1])
                probe.begin()
                self.log(f"idle {name}: {probe.stored:,} reminders stored, window open")
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"idle {name}: {type(exc).__name__}: {exc}")
            self.log(f"FAILED idle {name}: {exc}")

    def configuration(self, ctx, templates, config):
        kind, schedulers, name = CONFIGS[config]
        matrix = SCENARIOS if self.args.full else DEFAULT_MATRIX[config]
        todo = [s for s in matrix if s != "idle" and self.wants(s)]
        if not todo:
            return
        stack = Stack(templates, kind, schedulers, config, self.rundir, api_workers=self.args.api_workers,
                      overrides=self.overrides)
        try:
            stack.start()
            self.log(f"{name}: API on :{stack.port} ({stack.api_workers} gunicorn workers), {schedulers} scheduler(s)")
            for scenario in todo:
                fn = {"burst": scenarios.burst, "spread": scenarios.spread, "late-create": scenarios.late_create,
                      "api": scenarios.api}[scenario]
                if scenario == "api" and kind == "postgres" and self.results.get("burst", {}).get(name):
                    # The 10,000 batch on PostgreSQL is the burst's creation (same route, same size):
                    # not timed twice, to keep the run under 10 minutes.
                    burst = self.results["burst"][name]
                    result = self.attempt(f"{scenario} {name}", fn, stack, ctx, False)
                    if result:
                        result.update(batch_size=burst["expected"], batch_s=burst["create_s"],
                                      batch_requests=f"{-(-burst['expected'] // 1000)} x 1000, {stack.api_workers} "
                                                     "at a time (the burst's creation)")
                else:
                    result = self.attempt(f"{scenario} {name}", fn, stack, ctx)
                if result:
                    self.record(scenario, name, result)
                if not stack.alive():
                    self.problems.append(f"{name}: a scheduler exited during {scenario}; see {self.rundir}")
                    break
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"{name}: {type(exc).__name__}: {exc}")
            self.log(f"FAILED {name}: {exc}")
        finally:
            stack.stop()

    def main(self):
        args = self.args
        self.info = {"machine": report.machine(), "sizes": self.sizes, "overrides": self.overrides,
                     "load_average_start": os.getloadavg()}
        want_pg = any(CONFIGS[c][0] == "postgres" for c in self.configs)
        if want_pg:
            reason = pg_available()
            if reason:
                self.problems.append(f"PostgreSQL skipped: {reason}")
                self.log(f"PostgreSQL not reachable ({reason}): its configurations are skipped")
                self.configs = [c for c in self.configs if CONFIGS[c][0] != "postgres"]
                want_pg = False
            else:
                with pg_admin() as conn:
                    self.info["machine"]["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
        if not (ROOT / os.environ.get("BENCH_SCHEDULER", "scheduler.py")).exists():
            self.log("scheduler.py is missing: TiffTock scenarios will fail (references still run)")
        self.info["settings"] = effective_settings(base_env("sqlite:///:memory:", self.overrides))
        self.log(f"TiffTock settings: {self.info['settings']}")
        self.log(f"machine: {report.machine_line(self.info['machine'])}; load average {self.info['load_average_start']}")
        self.log(f"results and logs: {self.rundir}; scratch: {self.workdir}")

        templates = Templates(self.workdir, self.rundir / "migrate.log")
        self.sink = Sink(log=self.rundir / "sink.log")
        ctx = scenarios.Context(self.sink, str(self.rundir), self.sizes, self.log)
        overlap = not args.no_overlap
        try:
            if self.wants("sink") or self.wants("burst"):
                result = self.attempt("sink capacity", scenarios.sink_capacity, ctx)
                if result:
                    self.record("sink", "sink alone", result)

            refs = not args.no_refs and (self.wants("refs") or self.wants("burst") or self.wants("spread"))
            # Idle: one stack per database, 10,000 stored; window 1 spans the references, then the
            # stores grow to 100,000 and window 2 spans the first TiffTock configuration.
            idles = []
            if "sqlite-1" in self.configs:
                idles.append(("TiffTock SQLite 1s", self.sizes["idle_window"], self.idle_start(templates, "sqlite", "idle-sqlite")))
            if want_pg:
                idles.append(("TiffTock PG 1s", self.sizes["idle_window_pg"], self.idle_start(templates, "postgres", "idle-pg")))
            idles = [item for item in idles if item[2] is not None]

            def idle_windows(grow):
                for name, window, probe in idles:
                    self.idle_step(probe, name, window, grow=grow)
                if not grow:
                    for _name, _window, probe in idles:
                        probe.close()
                    idles.clear()

            if not overlap and idles:
                idle_windows(grow=True)
                idle_windows(grow=False)
            if refs and (self.wants("burst") or "refs" in self.only):
                self.references(ctx, "burst")
            if refs and (self.wants("spread") or "refs" in self.only):
                self.references(ctx, "spread")
            if idles:
                idle_windows(grow=True)
            for config in self.configs:
                self.configuration(ctx, templates, config)
                if idles:
                    idle_windows(grow=False)
            if idles:
                idle_windows(grow=False)
        finally:
            self.sink.close()
            templates.close()
        self.finish()

    def finish(self):
        elapsed = time.monotonic() - self.started
        self.info["load_average_end"] = os.getloadavg()
        self.info["elapsed_s"] = round(elapsed, 1)
        checks = report.targets(self.results)
        comparisons = report.ratios(self.results)
        text = report.tables(self.results)
        lines = ["", text, ""]
        if comparisons:
            lines += ["**ratios**", "", report.table(["comparison", "value"], comparisons), ""]
        if checks:
            lines += ["**targets (issue 5)**", "", report.table(["target", "figure", "result"], checks), ""]
        if self.problems:
            lines += ["**problems**", ""] + [f"- {p}" for p in self.problems] + [""]
        lines.append(f"Machine: {report.machine_line(self.info['machine'])}. Run took {elapsed / 60:.1f} min.")
        body = "\n".join(lines)
        print(body, flush=True)
        document = {"started": self.stamp, "info": self.info, "results": self.results,
                    "ratios": comparisons, "targets": checks, "problems": self.problems}
        json_path = self.resultdir / f"{self.stamp}.json"
        json_path.write_text(json.dumps(document, indent=2, default=str))
        (self.resultdir / f"{self.stamp}.md").write_text(body + "\n")
        print(f"\nwrote {json_path.relative_to(ROOT)} (and .md; records and logs in {self.rundir.relative_to(ROOT)}/)")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    run = Run(args)
    code = 0
    try:
        run.main()
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr)
        code = 130
    finally:
        Children.stop_all()
        try:
            pg_sweep()
        except Exception:  # noqa: BLE001 - no PostgreSQL: nothing to sweep
            pass
        if not args.keep:
            import shutil

            shutil.rmtree(run.workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
