"""scheduler.py as a real subprocess beside the API on one database, webhooks to a loopback sink."""
import signal
import statistics
import subprocess
import sys
from datetime import datetime

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_KEY
from tests.e2e.conftest import ROOT, iso_in, subprocess_env, wait_until

pytestmark = pytest.mark.e2e
HEADERS = {"X-API-Key": ADMIN_KEY}


def create(api, sink, **body):
    payload = {"message": "stand up", "method": "webhook", "params": {"url": sink.url}}
    payload.update(body)
    response = api.post("/reminders", json=payload, headers=HEADERS)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def create_batch(api, sink, whens):
    body = {"reminders": [{"message": f"burst {i}", "method": "webhook", "params": {"url": sink.url}, "when": when}
                          for i, when in enumerate(whens)]}
    response = api.post("/reminders/batch", json=body, headers=HEADERS)
    assert response.status_code == 201, response.get_json()
    return [item["id"] for item in response.get_json()]


def epoch(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def claimed_state(url):
    """(reminders holding a lease, running deliveries) straight from the database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            leased = connection.scalar(sa.text("SELECT count(*) FROM reminders WHERE lease_token IS NOT NULL"))
            running = connection.scalar(sa.text("SELECT count(*) FROM deliveries WHERE status = 'running'"))
    finally:
        engine.dispose()
    return leased, running


def deliveries_per_scheduler(url):
    """{scheduler_id: succeeded deliveries}, printed for the test log."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            shares = dict(connection.execute(sa.text(
                "SELECT scheduler_id, count(*) FROM deliveries WHERE status = 'succeeded' GROUP BY scheduler_id")).all())
    finally:
        engine.dispose()
    print("deliveries per scheduler:", sorted(shares.values()))
    return shares


def test_reminders_arrive_on_time_and_sigterm_exits_zero(api, sink, start_scheduler, e2e_url):
    scheduler = start_scheduler()
    scheduler.wait_started()
    due = {}
    for offset in (2.0, 2.5, 3.0, 3.5, 4.0):
        reminder = create(api, sink, when=iso_in(offset))
        due[reminder["id"]] = epoch(reminder["next_run_at"])
    soon = create(api, sink, when=iso_in(0.3))  # created closer than a poll interval to its time
    due[soon["id"]] = epoch(soon["next_run_at"])
    recurring = create(api, sink, when=iso_in(1.0), every="PT1M")

    wait_until(lambda: set(due) <= set(sink.by_reminder()), 60, message="every one-off delivered")
    wait_until(lambda: recurring["id"] in sink.by_reminder(), 60, message="the recurring one's first run")
    received = sink.by_reminder()
    lateness = {rid: received[rid][0]["t"] - due[rid] for rid in due}
    print("lateness ms:", {rid: round(late * 1000, 1) for rid, late in lateness.items()})
    assert all(len(received[rid]) == 1 for rid in due), "a one-off was delivered twice"
    assert all(late > -0.05 for late in lateness.values()), "delivered before it was due"
    assert statistics.median(lateness.values()) < 5.0  # generous: a loaded 2-core machine

    item = api.get(f"/reminders/{recurring['id']}", headers=HEADERS).get_json()
    assert item["runs"] == 1 and item["status"] == "scheduled"
    deliveries = api.get(f"/reminders/{soon['id']}/deliveries", headers=HEADERS).get_json()
    assert [(d["status"], d["attempt"]) for d in deliveries] == [("succeeded", 1)]
    assert api.get(f"/reminders/{soon['id']}", headers=HEADERS).get_json()["status"] == "completed"

    # A manual trigger is picked up by the poll.
    trigger = api.post(f"/reminders/{recurring['id']}/trigger", headers=HEADERS)
    assert trigger.status_code == 202
    wait_until(lambda: len(sink.by_reminder()[recurring["id"]]) == 2, 60, message="the manual trigger")

    health = api.get("/healthz").get_json()
    assert health["schedulers"] >= 1

    assert scheduler.stop(signal.SIGTERM) == 0
    assert claimed_state(e2e_url) == (0, 0)
    log = scheduler.text()
    assert "event=stopped" in log and "stand up" not in log and sink.url not in log  # ids only, never text or addresses


def test_kill9_mid_burst_loses_no_occurrence(api, sink, start_scheduler, e2e_url):
    sink.delay = 0.15  # a slow-ish endpoint
    first = start_scheduler(LEASE_SECONDS=3)
    first.wait_started()
    ids = create_batch(api, sink, [iso_in(3.0)] * 300)
    wait_until(lambda: sink.count() >= 60, 90, 0.02, message="the burst under way")
    first.kill9()
    killed_at = sink.count()

    # The API keeps answering on the shared database meanwhile (never "database is locked").
    for _ in range(5):
        assert api.get("/reminders?status=scheduled&limit=5", headers=HEADERS).status_code == 200

    second = start_scheduler(LEASE_SECONDS=3)
    second.wait_started()
    wait_until(lambda: set(ids) <= set(sink.by_reminder()), 120, 0.2, message="every occurrence delivered")
    received = sink.by_reminder()
    duplicates = sum(len(received[rid]) - 1 for rid in ids)
    print(f"kill -9 after {killed_at} of {len(ids)} arrivals: {duplicates} duplicate deliveries after the restart")
    assert all(len({r["id"] for r in received[rid]}) == 1 for rid in ids)  # one occurrence id each (the dedupe key)
    assert duplicates <= 32 + 5, "more duplicates than attempts that can be in flight"

    wait_until(lambda: claimed_state(e2e_url) == (0, 0), 60, message="every lease given back")
    assert second.stop(signal.SIGTERM) == 0
    statuses = {api.get(f"/reminders/{rid}", headers=HEADERS).get_json()["status"] for rid in ids[:20]}
    assert statuses == {"completed"}


def test_sigterm_releases_slow_attempts_and_once_delivers_them(api, sink, start_scheduler, e2e_url):
    sink.delay = 30.0  # attempts that cannot finish within the grace period
    scheduler = start_scheduler(SHUTDOWN_GRACE_SECONDS=1)
    scheduler.wait_started()
    ids = create_batch(api, sink, [iso_in(-1)] * 4)
    future = create(api, sink, when=iso_in(3600))
    wait_until(lambda: sink.count() >= 4, 60, message="four attempts in flight")
    assert scheduler.stop(signal.SIGTERM) == 0
    assert claimed_state(e2e_url) == (0, 0)
    assert "event=released" in scheduler.text()
    for rid in ids:
        deliveries = api.get(f"/reminders/{rid}/deliveries", headers=HEADERS).get_json()
        assert [(d["status"], d["error"]) for d in deliveries] == [("failed", "scheduler stopped during the attempt")]
        assert api.get(f"/reminders/{rid}", headers=HEADERS).get_json()["status"] == "scheduled"

    sink.delay = 0.0
    once = start_scheduler("--once")
    assert once.proc.wait(timeout=120) == 0, once.text()[-3000:]
    received = sink.by_reminder()
    assert all(len(received[rid]) == 2 for rid in ids)  # the released attempt, and the one --once made
    for rid in ids:
        item = api.get(f"/reminders/{rid}", headers=HEADERS).get_json()
        assert item["status"] == "completed" and item["runs"] == 1
    assert api.get(f"/reminders/{future['id']}", headers=HEADERS).get_json()["status"] == "scheduled"
    assert future["id"] not in received
    assert claimed_state(e2e_url) == (0, 0)


def test_once_with_nothing_due_exits_zero_and_needs_no_api_key(e2e_url):
    result = subprocess.run([sys.executable, "scheduler.py", "--once", "--log-level", "debug"], cwd=ROOT,
                            env=subprocess_env(e2e_url, API_KEY=""), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "event=started" in result.stderr and "mode=once" in result.stderr


def test_missing_schema_exits_nonzero(tmp_path):
    result = subprocess.run([sys.executable, "scheduler.py", "--once"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=subprocess_env(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert result.returncode == 1 and "event=failed" in result.stderr


def test_two_schedulers_share_a_burst_without_duplicates(api, sink, start_scheduler, e2e_url):
    sink.delay = 0.05
    schedulers = [start_scheduler(WORKERS=8), start_scheduler(WORKERS=8)]
    for scheduler in schedulers:
        scheduler.wait_started()
    ids = create_batch(api, sink, [iso_in(3.0)] * 200)
    wait_until(lambda: set(ids) <= set(sink.by_reminder()), 120, 0.2, message="every occurrence delivered")
    wait_until(lambda: claimed_state(e2e_url) == (0, 0), 60, message="every outcome recorded")
    received = sink.by_reminder()
    assert all(len(received[rid]) == 1 for rid in ids), "an occurrence ran twice while both schedulers lived"
    shares = deliveries_per_scheduler(e2e_url)
    assert sum(shares.values()) == 200 and len(shares) == 2, shares
    assert all(scheduler.stop(signal.SIGTERM) == 0 for scheduler in schedulers)


def test_a_slow_attempt_keeps_its_lease_and_is_not_run_twice(api, sink, start_scheduler, e2e_url):
    sink.delay = 5.0  # longer than the lease: the scheduler renews it while the attempt runs
    scheduler = start_scheduler(LEASE_SECONDS=3)
    scheduler.wait_started()
    ids = create_batch(api, sink, [iso_in(-1)] * 3)
    wait_until(lambda: all(api.get(f"/reminders/{rid}", headers=HEADERS).get_json()["status"] == "completed" for rid in ids),
               90, 0.5, message="the slow attempts recorded")
    for rid in ids:  # a takeover would show as a second attempt (and the first marked "lease expired")
        deliveries = api.get(f"/reminders/{rid}/deliveries", headers=HEADERS).get_json()
        assert [(d["status"], d["attempt"]) for d in deliveries] == [("succeeded", 1)]
    received = sink.by_reminder()
    assert [len(received[rid]) for rid in ids] == [1, 1, 1]
    assert scheduler.stop(signal.SIGTERM) == 0


def test_three_schedulers_drain_thousands_on_postgresql(api, sink, start_scheduler, e2e_url):
    if not e2e_url.startswith("postgresql"):
        pytest.skip("scale-out across several schedulers is PostgreSQL's (SQLite: one machine)")
    schedulers = [start_scheduler(WORKERS=16) for _ in range(3)]
    for scheduler in schedulers:
        scheduler.wait_started()
    due = iso_in(8.0)
    ids = [rid for _ in range(3) for rid in create_batch(api, sink, [due] * 1000)]
    wait_until(lambda: set(ids) <= set(sink.by_reminder()), 300, 0.5, message="all 3,000 occurrences delivered")
    wait_until(lambda: claimed_state(e2e_url) == (0, 0), 120, message="every outcome recorded")
    received = sink.by_reminder()
    twice = [rid for rid in ids if len(received[rid]) != 1]
    assert twice == [], f"{len(twice)} occurrences ran more than once while every lease was valid"
    shares = deliveries_per_scheduler(e2e_url)
    assert sum(shares.values()) == 3000 and len(shares) == 3, shares
    assert all(scheduler.stop(signal.SIGTERM) == 0 for scheduler in schedulers)
