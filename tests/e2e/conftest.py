"""End-to-end fixtures: a migrated database, the API on it, scheduler.py subprocesses, a webhook sink."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from app import create_app
from app.extensions import db
from tests.conftest import ADMIN_KEY, make_config
from tests.databases import drop_pg_schema, new_pg_schema, pg_unavailable_reason

ROOT = Path(__file__).resolve().parents[2]
# Settings the scheduler subprocess gets explicitly, so a developer's .env cannot change a test.
SCHEDULER_ENV = {
    "API_KEY": ADMIN_KEY,
    "LOG_LEVEL": "INFO",
    "POLL_SECONDS": "0.5",
    "LEASE_SECONDS": "60",
    "HEARTBEAT_SECONDS": "1",
    "WORKERS": "32",
    "SHUTDOWN_GRACE_SECONDS": "10",
    "MISFIRE_GRACE_SECONDS": "3600",
    "DEFAULT_MAX_ATTEMPTS": "5",
    "DEFAULT_BACKOFF_SECONDS": "1",
    "PROCESS_MODULES": "",
    "WEBHOOK_BLOCK_PRIVATE": "false",
    "PYTHONUNBUFFERED": "1",
}


def wait_until(condition, timeout=60.0, interval=0.1, message="condition"):
    """Poll `condition()` until it is truthy (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {message}")
        time.sleep(interval)


def subprocess_env(database_url, **settings):
    """The environment of a TiffTock subprocess on `database_url`."""
    env = dict(os.environ)
    env.update(SCHEDULER_ENV)
    env["DATABASE_URL"] = database_url
    env.update({key: str(value) for key, value in settings.items()})
    return env


@pytest.fixture(params=["sqlite", "postgresql"])
def e2e_url(request, tmp_path):
    """A database migrated by `flask db upgrade` (which proves the migration): a SQLite file, or a PostgreSQL schema."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'e2e.db'}"
    else:
        reason = pg_unavailable_reason()
        if reason:
            pytest.skip(reason)
        url, schema = new_pg_schema()
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
        cwd=ROOT, env=subprocess_env(url), capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    yield url
    if schema:
        drop_pg_schema(schema)


@pytest.fixture
def api(e2e_url, tmp_path):
    """A test client of the real API on the same database."""
    app = create_app(make_config(tmp_path, DATABASE_URL=e2e_url))
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class SchedulerProcess:
    """scheduler.py as a subprocess, its output in a log file."""

    def __init__(self, env, log_path, args=()):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "scheduler.py", *args], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def text(self):
        return Path(self.log_path).read_text(errors="replace")

    def wait_started(self, timeout=60):
        wait_until(lambda: "event=started" in self.text() or self.proc.poll() is not None, timeout, message="scheduler start")
        assert self.proc.poll() is None, f"scheduler exited with {self.proc.returncode}:\n{self.text()[-3000:]}"

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Send `sig` and wait for the exit status."""
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def close(self):
        """Kill it if it still runs; close its log."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._log.close()


@pytest.fixture
def start_scheduler(e2e_url, tmp_path):
    """Start scheduler.py on the test database: start_scheduler(**settings) -> SchedulerProcess."""
    started = []

    def start(*args, **settings):
        proc = SchedulerProcess(subprocess_env(e2e_url, **settings), tmp_path / f"scheduler{len(started) + 1}.log", args)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.close()
        print(f"--- {proc.log_path.name} (last lines)\n" + "\n".join(proc.text().splitlines()[-15:]))


class Sink:
    """A threaded HTTP server on loopback that records every webhook it receives."""

    def __init__(self):
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request("/hook", method="POST").respond_with_handler(self._handle)
        self.records = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds each request takes (a slow-ish endpoint)

    @property
    def url(self):
        return self.server.url_for("/hook")

    def _handle(self, request):
        received = time.time()
        body = json.loads(request.get_data() or b"{}")
        with self.lock:
            self.records.append({"t": received, "id": request.headers.get("webhook-id"), "rid": body.get("reminder_id"),
                                 "attempt": body.get("attempt"), "scheduled_for": body.get("scheduled_for")})
        if self.delay:
            time.sleep(self.delay)
        return Response("ok", status=200)

    def count(self):
        with self.lock:
            return len(self.records)

    def by_reminder(self):
        with self.lock:
            out = {}
            for record in self.records:
                out.setdefault(record["rid"], []).append(record)
            return out


@pytest.fixture
def sink():
    """The webhook receiver."""
    server = Sink()
    server.server.start()
    yield server
    server.server.clear()
    server.server.stop()


def iso_in(seconds):
    """The ISO instant `seconds` from now (UTC, millisecond precision)."""
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")
