#!/usr/bin/env python3
"""TiffTock's scheduler: delivers due reminders through their remind processes.

    python scheduler.py                 run until SIGTERM / Ctrl-C
    python scheduler.py --once          handle what is due now, then exit (cron-driven installs)
    python scheduler.py --log-level DEBUG

Settings come from the environment and `.env` (see app/config.py); API_KEY is not needed.
This file is the only place that reads the clock: the engine (app/engine) is plain
functions of (session, now). APScheduler's BlockingScheduler runs four jobs:

- `tick`: a DateTrigger re-armed to the earliest `next_run_at` in the database, so the
  process wakes exactly when something is due; it claims what is due (at most as many
  as there are free workers) and hands each attempt to a bounded thread pool.
- `poll` (every POLL_SECONDS): one indexed `SELECT` of the earliest due time plus a check
  for manual triggers, so reminders created or changed through the API are seen at once.
- `heartbeat` (every HEARTBEAT_SECONDS) and lease renewal of slow attempts in flight.
- `prune` (every PRUNE_SECONDS): the retention settings.

SIGTERM / SIGINT: stop claiming, let attempts in flight finish for up to
SHUTDOWN_GRACE_SECONDS, give back the leases of the rest, exit 0.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor  # noqa: E402
from apscheduler.jobstores.base import JobLookupError  # noqa: E402
from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from app.config import Config, engine_options  # noqa: E402
from app.engine import (  # noqa: E402
    Outcome,
    beat,
    claim_due,
    claim_manual,
    forget,
    next_due,
    peek,
    prune_step,
    record_outcomes,
    release,
    renew_leases,
    run_attempt,
)
from app.notify import CHANNEL  # noqa: E402
from app.processes import ProcessRegistry  # noqa: E402
from app.security.redaction import install_redaction  # noqa: E402
from app.timeutil import iso, utcnow  # noqa: E402

log = logging.getLogger("tifftock.scheduler")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# When a claim found nothing although something is due (rows locked by another
# scheduler on PostgreSQL), look again this much later instead of spinning.
RETRY_SOON = timedelta(milliseconds=20)
# When the database fails, the tick tries again this much later.
RETRY_AFTER_ERROR = timedelta(seconds=1)
# --once rounds at most (each round: claim what is due, wait for the attempts).
ONCE_ROUNDS = 1000
# Outcomes written in one transaction at most (they queue up in a burst).
RECORD_BATCH = 50
RECORD_TRIES = 3
_STOP = object()
# On PostgreSQL the API NOTIFYs on every change; poll at most this often in answer.
NOTIFY_DEBOUNCE = 0.05


def describe(exc):
    """An exception as log text without secrets: its class, and a database driver's own message."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"{type(exc).__name__}({type(exc.orig).__name__}: {str(exc.orig).splitlines()[0][:200]})"
    return type(exc).__name__


class Scheduler:
    """One scheduler process: the engine wired to APScheduler and a bounded worker pool."""

    def __init__(self, config: Config, *, scheduler_id: str | None = None):
        self.config = config
        self.id = scheduler_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        url = config.DATABASE_URL
        options = engine_options(url)
        if not url.startswith("sqlite"):
            options.update(pool_size=5, max_overflow=config.WORKERS + 5)
        self.db = create_engine(url, **options)
        self.Session = sessionmaker(self.db, expire_on_commit=False)
        # SQLite has one writer at a time: queue this process's transactions on a lock
        # instead of letting its threads poll SQLite's busy handler (which sleeps up to 100 ms).
        self.db_lock = threading.Lock() if self.db.dialect.name == "sqlite" else contextlib.nullcontext()
        self.registry = ProcessRegistry(config)
        self.workers = ThreadPoolExecutor(max_workers=config.WORKERS, thread_name_prefix="attempt")
        self.rng = random.Random()
        self.started_at = utcnow()
        self.stopping = threading.Event()
        self.state = threading.Lock()  # guards the fields below
        self.inflight = {}  # delivery_id -> (Attempt, claimed_at): claimed, outcome not yet recorded
        self.futures = set()  # attempts running on a worker
        self.results = queue.SimpleQueue()  # (Attempt, Outcome, finished_at) for the recorder
        self.recorder = threading.Thread(target=self.record_loop, name="recorder", daemon=True)
        self.armed = None  # when the tick job is set to run, or None
        self.armed_job = None  # its id: a fresh one each time, so APScheduler's removal of a fired job never hits a new one
        self.arms = 0
        self.saturated = False  # a tick stopped claiming for want of workers
        self.manual_pending = True  # look for manual triggers on the next tick
        self.tick_lock = threading.Lock()
        self.tick_again = False
        self.unfinished = 0  # attempts released at shutdown
        self.aps = BlockingScheduler(
            timezone=timezone.utc,
            executors={"default": JobExecutor(max_workers=6)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # --- database --------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self):
        """A session for one engine call, queued behind this process's other writers on SQLite."""
        with self.db_lock, self.Session() as session:
            yield session

    # --- the tick: claim what is due, hand it to the workers, re-arm -------------------

    def tick(self):
        """Claim and submit what is due; safe to call from any thread (runs again if asked meanwhile)."""
        self.tick_again = True
        while self.tick_again and self.tick_lock.acquire(blocking=False):
            try:
                self.tick_again = False
                self._tick()
            finally:
                self.tick_lock.release()

    def _tick(self):
        with self.state:
            self.armed = None  # the DateTrigger job, if it was that, has fired
        if self.stopping.is_set():
            return
        try:
            claimed = self.claim()
            self.rearm(claimed)
        except Exception as exc:  # the database is away or locked: try again soon
            log.error("event=tick_failed error=%s", describe(exc))
            self.arm(utcnow() + RETRY_AFTER_ERROR)

    def claim(self):
        """Claim due reminders and manual triggers while workers are free; returns how many were submitted."""
        submitted = 0
        while not self.stopping.is_set():
            with self.state:
                free = self.config.WORKERS - len(self.inflight)
                self.saturated = free <= 0
            if free <= 0:
                break
            free = min(free, self.config.CLAIM_BATCH)
            lease = self.config.LEASE_SECONDS
            taken = 0
            with self.session() as session:
                if self.manual_pending:
                    now = utcnow()
                    attempts = claim_manual(session, now, scheduler_id=self.id, lease_seconds=lease, limit=free)
                    self.manual_pending = len(attempts) >= free
                    taken += self.submit(attempts, now)
                now = utcnow()
                attempts = claim_due(session, now, scheduler_id=self.id, lease_seconds=lease, limit=free - taken, config=self.config)
                taken += self.submit(attempts, now)
            submitted += taken
            if taken < free:
                break
        return submitted

    def rearm(self, claimed):
        """Set the tick job to the earliest due time (now when more is due and workers are free)."""
        with self.session() as session:
            due = next_due(session)
        now = utcnow()
        if due is not None and due <= now:
            with self.state:
                if self.saturated:
                    return  # a finishing attempt ticks again
            due = now if claimed else now + RETRY_SOON
        self.arm(due)

    def arm(self, when):
        """(Re)schedule the tick job at `when` (None: no job until the poll finds something)."""
        with self.state:
            if when == self.armed or self.stopping.is_set():
                return
            self.armed = when
            if self.armed_job is not None:
                with contextlib.suppress(JobLookupError):
                    self.aps.remove_job(self.armed_job)
                self.armed_job = None
            if when is not None:
                self.arms += 1
                self.armed_job = f"tick-{self.arms}"
                self.aps.add_job(self.tick, "date", run_date=when, id=self.armed_job, name="tick")
        if when is not None:
            log.debug("event=armed at=%s", iso(when))

    def poll(self):
        """See new and changed reminders and manual triggers (indexed queries only)."""
        if self.stopping.is_set():
            self._shutdown_aps()  # a signal that came before APScheduler was running
            return
        now = utcnow()
        try:
            with self.session() as session:
                seen = peek(session, now)
        except Exception as exc:
            log.error("event=poll_failed error=%s", describe(exc))
            return
        due, manual = seen.next_due, seen.manual_waiting
        if manual:
            self.manual_pending = True
        if manual or (due is not None and due <= now):
            self.tick()
        else:
            with self.state:
                changed = due != self.armed
            if changed:
                self.arm(due)

    def listen(self):
        """PostgreSQL: poll as soon as the API NOTIFYs a change (a thread; the timed poll stays as a fallback)."""
        import psycopg

        url = self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self.stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    log.info("event=listening channel=%s", CHANNEL)
                    self._relay(connection)
            except Exception as exc:  # the database restarted: connect again
                if not self.stopping.is_set():
                    log.warning("event=listen_failed error=%s", describe(exc))
                    self.stopping.wait(5)

    def _relay(self, connection):
        pending, last = False, 0.0
        while not self.stopping.is_set():
            timeout = max(last + NOTIFY_DEBOUNCE - time.monotonic(), 0) if pending else 1.0
            for _notify in connection.notifies(timeout=timeout, stop_after=1):
                pending = True
            if pending and time.monotonic() - last >= NOTIFY_DEBOUNCE:
                pending, last = False, time.monotonic()
                self.poll()

    # --- attempts ------------------------------------------------------------------------

    def submit(self, attempts, now):
        """Hand claimed attempts to the workers at once, then log them; returns how many."""
        futures = []
        with self.state:
            for attempt in attempts:
                self.inflight[attempt.delivery_id] = (attempt, now)
                futures.append(self.workers.submit(self.work, attempt))
            self.futures.update(futures)
        for future in futures:
            future.add_done_callback(self._done)
        for attempt in attempts:
            log.info(
                "event=attempt reminder_id=%s delivery_id=%s attempt=%s manual=%s scheduled_for=%s late_ms=%.0f",
                attempt.reminder_id, attempt.delivery_id, attempt.attempt, attempt.manual, iso(attempt.scheduled_for),
                (now - attempt.scheduled_for).total_seconds() * 1000,
            )
        return len(attempts)

    def _done(self, future):
        with self.state:
            self.futures.discard(future)

    def work(self, attempt):
        """Deliver (a worker thread); the recorder writes the outcome."""
        try:
            outcome = run_attempt(attempt, self.registry)
        except BaseException as exc:  # run_attempt catches Exception; this is SystemExit & co
            outcome = Outcome("retryable", error=type(exc).__name__)
        self.results.put((attempt, outcome, utcnow()))

    def record_loop(self):
        """Write outcomes as they come, many per transaction when they queue up (a thread)."""
        while True:
            item = self.results.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < RECORD_BATCH:
                try:
                    item = self.results.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self.results.put(_STOP)
                    break
                batch.append(item)
            self.record(batch)

    def record(self, batch):
        """Record a batch of outcomes; on a database error try again, then leave it to the lease."""
        recorded = None
        for attempt_no in range(1, RECORD_TRIES + 1):
            try:
                with self.session() as session:
                    recorded = record_outcomes(session, batch, self.config, rng=self.rng)
                break
            except Exception as exc:
                log.error("event=record_failed attempts=%d try=%d error=%s", len(batch), attempt_no, describe(exc))
                if attempt_no < RECORD_TRIES and not self.stopping.is_set():
                    time.sleep(attempt_no)
        due = []
        for (attempt, outcome, _finished), result in zip(batch, recorded or [None] * len(batch)):
            if result is None:
                continue  # not recorded: the lease expires and the attempt is taken up again
            log.info(
                "event=%s reminder_id=%s delivery_id=%s attempt=%s%s%s%s",
                result.delivery_status, attempt.reminder_id, attempt.delivery_id, attempt.attempt,
                f" error={outcome.error!r}" if outcome.error else "",
                f" next_run_at={iso(result.next_run_at)}" if result.next_run_at else "",
                " stale=true" if result.stale else "",
            )
            if result.next_run_at is not None:
                due.append(result.next_run_at)
        with self.state:
            for attempt, _outcome, _finished in batch:
                self.inflight.pop(attempt.delivery_id, None)
            wake = self.saturated
        if due:
            self.note_due(min(due))
        if wake and not self.stopping.is_set():
            self.tick()

    def note_due(self, when):
        """A reminder is due at `when`: wake then if that is earlier than the armed tick."""
        with self.state:
            earlier = self.armed is None or when < self.armed
        if earlier:
            self.arm(max(when, utcnow()))

    # --- housekeeping --------------------------------------------------------------------

    def heartbeat(self):
        """Upsert this scheduler's heartbeat row."""
        try:
            with self.session() as session:
                beat(session, utcnow(), scheduler_id=self.id, hostname=socket.gethostname(), pid=os.getpid(), started_at=self.started_at)
        except Exception as exc:
            log.error("event=heartbeat_failed error=%s", describe(exc))

    def renew(self):
        """Extend the leases of attempts running longer than a third of the lease."""
        now = utcnow()
        horizon = now - timedelta(seconds=self.config.LEASE_SECONDS / 3)
        with self.state:
            slow = [attempt for attempt, claimed in self.inflight.values() if claimed <= horizon]
        if not slow:
            return
        try:
            with self.session() as session:
                held = renew_leases(session, now, slow, self.config.LEASE_SECONDS)
            log.debug("event=renewed leases=%d held=%d", len(slow), held)
        except Exception as exc:
            log.error("event=renew_failed error=%s", describe(exc))

    def prune(self):
        """Apply the retention settings, one batch per transaction so claims are never held up for long."""
        counts = dict.fromkeys(("deliveries", "reminders", "heartbeats"), 0)
        now = utcnow()
        try:
            while not self.stopping.is_set():
                with self.session() as session:
                    step = prune_step(session, now, self.config)
                if not any(step.values()):
                    break
                for kind, count in step.items():
                    counts[kind] += count
            if any(counts.values()):
                log.info("event=pruned reminders=%d deliveries=%d heartbeats=%d", counts["reminders"], counts["deliveries"], counts["heartbeats"])
        except Exception as exc:
            log.error("event=prune_failed error=%s", describe(exc))

    # --- running and stopping -------------------------------------------------------------

    def run(self):
        """Run until stopped; returns the exit status."""
        self.check_database()
        self.heartbeat()
        self.recorder.start()
        if self.db.dialect.name == "postgresql":
            threading.Thread(target=self.listen, name="listen", daemon=True).start()
        now = utcnow()
        every = {
            self.poll: self.config.POLL_SECONDS,
            self.heartbeat: self.config.HEARTBEAT_SECONDS,
            self.renew: max(self.config.LEASE_SECONDS / 3, 0.5),
        }
        for job, seconds in every.items():
            self.aps.add_job(job, "interval", seconds=seconds, id=job.__name__, name=job.__name__)
        self.aps.add_job(self.prune, "interval", seconds=self.config.PRUNE_SECONDS, id="prune", name="prune",
                         next_run_time=now + timedelta(seconds=min(60, self.config.PRUNE_SECONDS)))
        self.arm(now)
        self.log_start("forever")
        if not self.stopping.is_set():
            self.aps.start()  # blocks until stop() shuts it down
        return self.finish()

    def run_once(self):
        """Handle what is due now (waiting for those attempts), prune, exit."""
        self.check_database()
        self.heartbeat()
        self.recorder.start()
        self.log_start("once")
        start = utcnow()
        for _round in range(ONCE_ROUNDS):
            self.manual_pending = True
            self.tick()
            while self.inflight and not self.stopping.is_set():
                time.sleep(0.05)  # recorded outcomes tick again while more is due
            if self.stopping.is_set():
                break
            with self.session() as session:
                seen = peek(session, utcnow())
            if not seen.manual_waiting and (seen.next_due is None or seen.next_due > start):
                break
        if not self.stopping.is_set():
            self.prune()
        return self.finish()

    def check_database(self):
        """Fail fast (exit 1, so systemd restarts) when the database or its schema is missing."""
        with self.session() as session:
            next_due(session)

    def log_start(self, mode):
        log.info(
            "event=started scheduler_id=%s mode=%s database=%s workers=%d lease_seconds=%s poll_seconds=%s processes=%s",
            self.id, mode, self.db.dialect.name, self.config.WORKERS, self.config.LEASE_SECONDS,
            self.config.POLL_SECONDS, ",".join(self.registry.names()),
        )

    def stop(self, signum=None, _frame=None):
        """Stop claiming and shut APScheduler down (a signal handler: the work happens in a thread)."""
        if self.stopping.is_set():
            return
        log.info("event=stopping signal=%s", signal.Signals(signum).name if signum else "none")
        self.stopping.set()
        threading.Thread(target=self._shutdown_aps, name="shutdown", daemon=True).start()

    def _shutdown_aps(self):
        with contextlib.suppress(Exception):
            self.aps.shutdown(wait=False)

    def finish(self):
        """Let attempts in flight finish within the grace period, release the rest; returns 0."""
        self.stopping.set()
        deadline = time.monotonic() + self.config.SHUTDOWN_GRACE_SECONDS
        with self.tick_lock:
            pass  # a tick in progress has handed over what it claimed
        if self.inflight:
            log.info("event=draining in_flight=%d grace_seconds=%s", len(self.inflight), self.config.SHUTDOWN_GRACE_SECONDS)
        while self.inflight and time.monotonic() < deadline:
            time.sleep(0.05)  # workers finish, the recorder writes their outcomes
        self.results.put(_STOP)
        if self.recorder.is_alive():
            self.recorder.join(timeout=max(deadline - time.monotonic(), 5))
        with self.state:
            unfinished = [attempt for attempt, _claimed in self.inflight.values()]
            self.inflight.clear()
        released = 0
        try:
            with self.session() as session:
                if unfinished:
                    released = release(session, utcnow(), unfinished)
                forget(session, self.id)
        except Exception as exc:
            log.error("event=release_failed error=%s", describe(exc))
        for attempt in unfinished:
            log.warning("event=released reminder_id=%s delivery_id=%s attempt=%s", attempt.reminder_id, attempt.delivery_id, attempt.attempt)
        self.workers.shutdown(wait=False, cancel_futures=True)
        self.unfinished = len(unfinished) + len(self.futures)
        if not self.unfinished:
            self.registry.close()
        self.db.dispose()
        log.info("event=stopped scheduler_id=%s released=%d", self.id, released)
        return 0


def setup_logging(level):
    """key=value lines on stderr with UTC timestamps."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s.%(msecs)03dZ level=%(levelname)s logger=%(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs every job run at INFO: keep its warnings and errors only.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def main(argv=None):
    parser = argparse.ArgumentParser(description="TiffTock's scheduler: delivers due reminders.")
    parser.add_argument("--once", action="store_true", help="handle what is due now, wait for those attempts, exit")
    parser.add_argument("--log-level", type=str.upper, choices=LEVELS, help="default: LOG_LEVEL from settings (INFO)")
    args = parser.parse_args(argv)
    config = Config.from_env()
    level = args.log_level or (config.LOG_LEVEL if config.LOG_LEVEL in LEVELS else "INFO")
    setup_logging(level)
    # Defence in depth: even a library's log line never carries a key, address or number.
    install_redaction(config)
    try:
        scheduler = Scheduler(config)
        signal.signal(signal.SIGTERM, scheduler.stop)
        signal.signal(signal.SIGINT, scheduler.stop)
        status = scheduler.run_once() if args.once else scheduler.run()
    except Exception as exc:
        log.error("event=failed error=%s", describe(exc))
        logging.shutdown()
        return 1
    logging.shutdown()
    if scheduler.unfinished:
        os._exit(status)  # do not wait for the threads of released attempts
    return status


if __name__ == "__main__":
    sys.exit(main())
