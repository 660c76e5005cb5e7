"""A running TiffTock for one benchmark configuration: its own database, gunicorn, N scheduler.py.

Databases are made from a template migrated once per run (`flask db upgrade`, as a user does):
SQLite copies the migrated file, PostgreSQL uses `CREATE DATABASE … TEMPLATE`. Every database
the benchmark makes is named `tifftock_bench*` (PostgreSQL) or lives in the run's temporary
directory (SQLite), and is dropped when its stack stops.
"""
import json
import os
import secrets
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.procs import PYTHON, ROOT, Children, free_port, group_cpu_seconds, spawn, wait_port

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://root@127.0.0.1:5432/postgres")
PG_PREFIX = "tifftock_bench"
# Scheduler and API knobs read from .env: blanked (= the built-in default) unless --set gives a value,
# so a developer's .env cannot quietly change what the benchmark measures.
KNOBS = ("POLL_SECONDS", "WORKERS", "CLAIM_BATCH", "LEASE_SECONDS", "HEARTBEAT_SECONDS", "PRUNE_SECONDS",
         "SHUTDOWN_GRACE_SECONDS", "MISFIRE_GRACE_SECONDS", "WEBHOOK_TIMEOUT", "DEFAULT_MAX_ATTEMPTS",
         "DEFAULT_BACKOFF_SECONDS", "DEFAULT_MAX_AGE_SECONDS", "MAX_BATCH", "MAX_REMINDERS_PER_KEY", "LOG_LEVEL")
API_KEY = "bench-" + secrets.token_urlsafe(24)


def base_env(database_url, overrides=None):
    """The environment of TiffTock processes started by the benchmark."""
    env = dict(os.environ)
    for knob in KNOBS:
        env[knob] = ""
    env.update({
        "API_KEY": API_KEY,
        "DATABASE_URL": database_url,
        "RATELIMIT_DEFAULT": "1000000 per minute",
        "WEBHOOK_BLOCK_PRIVATE": "false",
        "PROCESS_MODULES": "",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides or {})
    return env


def effective_settings(env):
    """The settings TiffTock's Config reads with this environment (in a child, so .env stays out of ours)."""
    code = ("import json; from app.config import Config; c = Config.from_env(); "
            "print(json.dumps({k: getattr(c, k) for k in %r if hasattr(c, k)}))" % ((KNOBS + ("RATELIMIT_DEFAULT",)),))
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def pg_available():
    """None when the benchmark's PostgreSQL answers, else why not."""
    try:
        with pg_admin() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    return None


def pg_sweep():
    """Drop every database this benchmark may have left (a run that was killed)."""
    with pg_admin() as conn:
        names = [row[0] for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (PG_PREFIX.replace("_", r"\_") + "%",))]
    for name in names:
        pg_drop(name)
    return names


def pg_url(name):
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def pg_drop(name):
    with pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(env, log):
    """`flask db upgrade` with this environment, as a user creates the schema."""
    with open(log, "ab") as out:
        done = subprocess.run([PYTHON, "-m", "flask", "--app", "app:create_app", "db", "upgrade"], cwd=ROOT,
                              env=env, stdout=out, stderr=out, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed; see {log}")


class Templates:
    """One migrated database per kind, copied for every stack of the run."""

    def __init__(self, workdir, log):
        self.workdir = Path(workdir)
        self.log = log
        self.sqlite_file = None
        self.pg_name = None
        self.counter = 0

    def sqlite(self):
        if self.sqlite_file is None:
            path = self.workdir / "template.db"
            migrate(base_env(f"sqlite:///{path}"), self.log)
            for suffix in ("-wal", "-shm"):
                if Path(str(path) + suffix).exists():
                    raise RuntimeError(f"{path}{suffix} left behind by the migration")
            self.sqlite_file = path
        return self.sqlite_file

    def postgres(self):
        if self.pg_name is None:
            name = f"{PG_PREFIX}_tpl"
            pg_drop(name)
            with pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            migrate(base_env(pg_url(name)), self.log)
            self.pg_name = name
        return self.pg_name

    def new_database(self, kind, label):
        """(url, drop function) of a fresh migrated database."""
        self.counter += 1
        if kind == "sqlite":
            path = self.workdir / f"{label}-{self.counter}.db"
            shutil.copyfile(self.sqlite(), path)

            def drop():
                for suffix in ("", "-wal", "-shm"):
                    try:
                        os.remove(str(path) + suffix)
                    except FileNotFoundError:
                        pass
            return f"sqlite:///{path}", drop
        template = self.postgres()
        name = f"{PG_PREFIX}_{label}".replace("-", "_")
        pg_drop(name)
        with pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return pg_url(name), lambda: pg_drop(name)

    def close(self):
        if self.pg_name:
            try:
                pg_drop(self.pg_name)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


class Stack:
    """gunicorn + N scheduler.py on a fresh database."""

    def __init__(self, templates, kind, schedulers, label, logdir, api_workers=2, overrides=None):
        self.kind = kind
        self.label = label
        self.n_schedulers = schedulers
        self.logdir = Path(logdir)
        self.url, self._drop = templates.new_database(kind, label)
        self.env = base_env(self.url, overrides)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = None
        self.schedulers = []
        self.api_workers = api_workers
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers["X-API-Key"] = API_KEY

    def log(self, name):
        return self.logdir / f"{self.label}-{name}.log"

    def start_api(self):
        self.api = spawn([str(Path(PYTHON).parent / "gunicorn"), "-w", str(self.api_workers), "-b",
                          f"127.0.0.1:{self.port}", "--backlog", "2048", "app:create_app()"],
                         env=self.env, log=self.log("gunicorn"))
        wait_port(self.port, timeout=60, proc=self.api)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.http.get(self.base + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.api.poll() is not None:
                raise RuntimeError(f"the API did not become healthy; see {self.log('gunicorn')}")
            time.sleep(0.1)

    def start_schedulers(self, count=None, wait=30.0):
        """Start the schedulers and wait until /healthz counts their heartbeats (or `wait` runs out)."""
        script = ROOT / os.environ.get("BENCH_SCHEDULER", "scheduler.py")
        if not script.exists():
            raise RuntimeError("scheduler.py is not in the repository yet")
        for index in range(count or self.n_schedulers):
            proc = spawn([PYTHON, str(script)], env=self.env, log=self.log(f"scheduler{len(self.schedulers) + 1}"))
            self.schedulers.append(proc)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            dead = [p for p in self.schedulers if p.poll() is not None]
            if dead:
                raise RuntimeError(f"scheduler.py exited with {dead[0].returncode}; see {self.logdir}")
            try:
                health = self.http.get(self.base + "/healthz", timeout=5).json()
                if (health.get("schedulers") or 0) >= len(self.schedulers):
                    return True
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.2)
        return False

    def start(self):
        self.start_api()
        self.start_schedulers()
        return self

    def alive(self):
        return all(p.poll() is None for p in self.schedulers)

    def scheduler_cpu(self):
        return sum(group_cpu_seconds(p.pid) for p in self.schedulers)

    # --- API helpers -------------------------------------------------------------------------
    def create(self, body, session=None, timeout=30):
        response = (session or self.http).post(self.base + "/reminders", json=body, timeout=timeout)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST /reminders answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def create_batch(self, bodies, chunk=1000, timeout=120, parallel=1):
        """Create reminders through POST /reminders/batch in chunks (`parallel` requests at a time);
        returns their ids in the order of `bodies`."""
        def post(part):
            with requests.Session() as http:
                http.trust_env = False
                http.headers["X-API-Key"] = API_KEY
                response = http.post(self.base + "/reminders/batch", json={"reminders": part}, timeout=timeout)
            if response.status_code != 201:
                raise RuntimeError(f"POST /reminders/batch answered {response.status_code}: {response.text[:300]}")
            return [item["id"] for item in response.json()]

        parts = [bodies[start:start + chunk] for start in range(0, len(bodies), chunk)]
        if parallel <= 1:
            return [rid for part in parts for rid in post(part)]
        with ThreadPoolExecutor(parallel) as pool:
            return [rid for ids in pool.map(post, parts) for rid in ids]

    def stop(self):
        """Stop schedulers (SIGTERM: they finish or release in-flight work), then the API; drop the database."""
        for proc in self.schedulers:
            Children.stop(proc, grace=15)
        if self.api is not None:
            Children.stop(self.api, grace=10)
        self.http.close()
        try:
            self._drop()
        except Exception:  # noqa: BLE001 - best effort
            pass


def webhook_body(sink_url, when_epoch, message="bench"):
    """A one-off webhook reminder due at `when_epoch` (sent with millisecond precision, UTC)."""
    return {"message": message, "method": "webhook", "params": {"url": sink_url}, "when": iso_ms(when_epoch)}


def iso_ms(epoch):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(round(epoch, 3), timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
