"""The two references the benchmark drives with the same workloads and the same sink.

`python -m bench.refs plain WORKLOAD URL` — the ceiling for a Python sender: one pooled
`requests.Session` and a ThreadPoolExecutor; a dispatcher sleeps until each payload's due
time and submits it.

`python -m bench.refs aps WORKLOAD URL DBFILE` — what a Python user would pick instead of
TiffTock: APScheduler 3 alone, a BackgroundScheduler with a SQLAlchemyJobStore on a SQLite
file and a ThreadPoolExecutor, one `date` job per reminder that POSTs to the sink.

WORKLOAD is a JSON file `{"offsets": [seconds after the due instant T, ...], "lead": s,
"workers": n}`. Each process picks T itself once it knows how long its set-up takes
(plain: now + lead; aps: after adding every job, lead seconds later — jobs are added with a
run date, so it first times adding a sample to a scratch store and extrapolates), prints
`due <T>` on stdout, and `created <wall time>` when its set-up is done. Both run until they get SIGTERM
(so their CPU counters can be read after the last request).
"""
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import requests
from requests.adapters import HTTPAdapter

_session = None
_session_lock = threading.Lock()
WORKERS = int(os.environ.get("BENCH_REF_WORKERS", "32"))


def session():
    """One pooled session per process, as TiffTock's webhook process keeps one."""
    global _session
    with _session_lock:
        if _session is None:
            _session = requests.Session()
            _session.trust_env = False
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=WORKERS, max_retries=0)
            _session.mount("http://", adapter)
        return _session


def payload(rid, due):
    """The body and headers TiffTock's webhook process sends for occurrence `due` of reminder `rid`."""
    hook_id = f"rem_{rid}_{int(round(due * 1000))}"
    scheduled = datetime.fromtimestamp(due, timezone.utc).isoformat().replace("+00:00", "Z")
    body = json.dumps({"message": f"bench {rid}", "reminder_id": rid, "scheduled_for": scheduled,
                       "occurrence_id": hook_id, "attempt": 1, "tags": []})
    return hook_id, body


def post_hook(url, rid, due):
    """The job: POST one payload to the sink (module-level so APScheduler can store a reference)."""
    hook_id, body = payload(rid, due)
    headers = {"User-Agent": "TiffTock-bench", "Content-Type": "application/json",
               "webhook-id": hook_id, "webhook-timestamp": str(int(time.time()))}
    response = session().post(url, data=body.encode(), headers=headers, timeout=10)
    response.close()
    return response.status_code


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_plain(workload, url):
    offsets = workload["offsets"]
    due = time.time() + workload["lead"]
    say(f"due {due!r}")
    say(f"created {time.time()!r}")
    pool = ThreadPoolExecutor(WORKERS)
    session()
    order = sorted(range(len(offsets)), key=offsets.__getitem__)
    errors = []

    def send(rid, at):
        try:
            post_hook(url, rid, at)
        except Exception as exc:  # noqa: BLE001 - count, never stop the loop
            errors.append(repr(exc))

    for index in order:
        at = due + offsets[index]
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        pool.submit(send, index + 1, at)
    pool.shutdown(wait=True)
    say(f"done {len(offsets)} errors {len(errors)}")
    # Stay until stopped, so the benchmark can still read this process's CPU counters.
    wait_for_sigterm()


def wait_for_sigterm():
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()


def run_aps(workload, url, db_file):
    from apscheduler.executors.pool import ThreadPoolExecutor as ApsThreadPool
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import create_engine, event

    offsets = workload["offsets"]
    # misfire_grace_time=None: run every job however late (the default 1 s would silently drop
    # part of a 10,000-job burst); coalesce does not matter for one-off date jobs.
    job_defaults = {"misfire_grace_time": None, "coalesce": False, "max_instances": 1}

    def scheduler_for(path, fast=False):
        engine = create_engine(f"sqlite:///{path}")
        if fast:
            # Only while the job store is filled (set-up, not measured): no fsync per added job.
            # The scheduler that runs the jobs uses a default engine (fsync per commit, as a user has it).
            event.listen(engine, "connect", lambda dbapi, _rec: dbapi.execute("PRAGMA synchronous=OFF"))
        return BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            executors={"default": ApsThreadPool(WORKERS)}, job_defaults=job_defaults, timezone="UTC")

    def add_jobs(scheduler, due):
        for index, offset in enumerate(offsets):
            at = due + offset
            scheduler.add_job(post_hook, "date", run_date=datetime.fromtimestamp(at, timezone.utc),
                              args=(url, index + 1, at), id=str(index + 1))

    # Time adding a sample of jobs to a scratch store, to choose a run date that the set-up will not overrun.
    sample = min(200, len(offsets))
    with tempfile.TemporaryDirectory() as scratch:
        probe = scheduler_for(os.path.join(scratch, "probe.sqlite"), fast=True)
        probe.start(paused=True)
        far = time.time() + 86400
        started = time.monotonic()
        for i in range(sample):
            probe.add_job(post_hook, "date", run_date=datetime.fromtimestamp(far, timezone.utc), args=(url, i, far), id=f"p{i}")
        per_job = (time.monotonic() - started) / sample
        probe.shutdown(wait=False)
    due = time.time() + per_job * len(offsets) * 1.5 + 2.0 + workload["lead"]
    say(f"due {due!r}")

    loader = scheduler_for(db_file, fast=True)
    loader.start(paused=True)
    add_jobs(loader, due)
    loader.shutdown(wait=False)
    scheduler = scheduler_for(db_file)
    scheduler.start()
    say(f"created {time.time()!r}")
    wait_for_sigterm()
    scheduler.shutdown(wait=False)


def main():
    kind, workload_path, url = sys.argv[1:4]
    with open(workload_path) as f:
        workload = json.load(f)
    if kind == "plain":
        run_plain(workload, url)
    elif kind == "aps":
        run_aps(workload, url, sys.argv[4])
    else:
        sys.exit(f"unknown reference {kind!r}")


if __name__ == "__main__":
    main()
