"""Leases: expiry and takeover, stale outcomes, renew and release, two claimers racing."""
import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import claim_due, release, renew_leases
from app.engine.claim import ABANDONED
from app.engine.leases import STOPPED
from app.models import Delivery, Reminder
from tests.engine.conftest import LEASE, at

W = "2030-01-01T08:00:00Z"


def test_expired_lease_is_taken_over_and_the_abandoned_row_marked(driver, make_reminder):
    rid = make_reminder(when=W)["id"]
    [lost] = driver.claim(at(W), scheduler_id="dead")  # this scheduler dies mid-attempt
    assert driver.claim(at(W) + timedelta(seconds=LEASE - 1)) == []  # the lease still holds
    [again] = driver.claim(at(W) + timedelta(seconds=LEASE), scheduler_id="alive")
    assert again.attempt == 2 and again.scheduled_for == lost.scheduled_for and again.lease_token != lost.lease_token
    rows = driver.deliveries(rid)
    assert [(d.attempt, d.status, d.error, d.scheduler_id) for d in rows] == [
        (1, "failed", ABANDONED, "dead"), (2, "running", None, "alive")]
    recorded = driver.finish(at(W) + timedelta(seconds=LEASE + 1), again)
    assert recorded.delivery_status == "succeeded" and recorded.reminder_status == "completed"


def test_a_stale_outcome_records_its_row_but_cannot_touch_the_reminder(driver, make_reminder):
    rid = make_reminder(when=W, every="PT1H")["id"]
    [lost] = driver.claim(at(W), scheduler_id="slow")
    [again] = driver.claim(at(W) + timedelta(seconds=LEASE))
    late = driver.finish(at(W) + timedelta(seconds=LEASE + 5), lost)  # the slow one finishes after all
    assert late.stale and late.delivery_status == "succeeded"
    reminder = driver.reminder(rid)
    assert reminder.lease_token == again.lease_token and reminder.runs == 0
    assert driver.finish(at(W) + timedelta(seconds=LEASE + 6), again).next_run_at == at(W) + timedelta(hours=1)
    assert driver.reminder(rid).runs == 1


def test_pause_during_an_attempt_makes_its_outcome_stale(driver, make_reminder, client, admin):
    rid = make_reminder(when=W, every="PT1H")["id"]
    [attempt] = driver.claim(at(W))
    assert client.post(f"/reminders/{rid}/pause", headers=admin).status_code == 200
    recorded = driver.finish(at(W), attempt)
    assert recorded.stale and recorded.delivery_status == "succeeded"
    reminder = driver.reminder(rid)
    assert reminder.status == "paused" and reminder.runs == 0 and reminder.lease_token is None
    assert driver.deliveries(rid)[0].status == "succeeded"  # what happened is still recorded


def test_a_schedule_patch_during_an_attempt_wins_over_its_outcome(driver, make_reminder, client, admin):
    rid = make_reminder(when=W, every="PT1H")["id"]
    [attempt] = driver.claim(at(W))
    response = client.patch(f"/reminders/{rid}", json={"every": "PT2H", "when": "2031-01-01T00:00:00Z"}, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert driver.finish(at(W), attempt).stale
    reminder = driver.reminder(rid)
    assert reminder.next_run_at == at("2031-01-01T00:00:00Z").replace(tzinfo=None) and reminder.every == "PT2H"


def test_delete_during_an_attempt_keeps_it_deleted(driver, make_reminder, client, admin):
    rid = make_reminder(when=W, every="PT1H")["id"]
    [attempt] = driver.claim(at(W))
    assert client.delete(f"/reminders/{rid}", headers=admin).status_code == 204
    assert driver.finish(at(W), attempt).stale
    assert driver.reminder(rid).status == "cancelled" and driver.tick(at(W) + timedelta(days=1)) == []


def test_renewed_lease_is_not_taken_over(driver, make_reminder, session):
    make_reminder(when=W)
    [attempt] = driver.claim(at(W))
    assert renew_leases(session, at(W) + timedelta(seconds=LEASE - 5), [attempt], LEASE) == 1
    assert driver.claim(at(W) + timedelta(seconds=LEASE + 1)) == []
    assert len(driver.claim(at(W) + timedelta(seconds=2 * LEASE))) == 1


def test_release_makes_unfinished_attempts_due_again(driver, make_reminder, session, client, admin):
    rid = make_reminder(when=W, every="PT1H")["id"]
    other = make_reminder(when=W)["id"]
    assert client.post(f"/reminders/{other}/trigger", headers=admin).status_code == 202
    attempts = driver.claim(at(W))
    assert sorted((a.reminder_id, a.manual) for a in attempts) == [(rid, False), (other, False), (other, True)]
    stop = at(W) + timedelta(seconds=3)
    assert release(session, stop, attempts) == 3
    reminder = driver.reminder(rid)
    assert reminder.lease_token is None and reminder.next_run_at == stop.replace(tzinfo=None) and reminder.attempt == 1
    rows = driver.deliveries(rid)
    assert [(d.status, d.error) for d in rows] == [("failed", STOPPED)]
    manual = [d for d in driver.deliveries(other) if d.manual]
    assert [(d.status, d.lease_token) for d in manual] == [("pending", None)]
    again = driver.claim(stop)
    assert sorted((a.reminder_id, a.attempt, a.manual) for a in again) == [(rid, 2, False), (other, 1, True), (other, 2, False)]


def test_two_claimers_racing_never_claim_a_row_twice(driver, engine, client, admin, config):
    body = {"reminders": [{"message": f"m{i}", "method": "log", "when": W} for i in range(300)]}
    response = client.post("/reminders/batch", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    now = at(W) + timedelta(seconds=1)
    claimed = {"a": [], "b": []}
    errors = []
    start = threading.Barrier(2)

    def claimer(name):
        try:
            with Session(engine, expire_on_commit=False) as session:
                start.wait(timeout=30)
                while batch := claim_due(session, now, scheduler_id=name, lease_seconds=LEASE, limit=7, config=config):
                    claimed[name].extend(a.reminder_id for a in batch)
        except Exception as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    a, b = claimed["a"], claimed["b"]
    assert len(a) + len(b) == 300 and len(set(a) | set(b)) == 300, "a row was claimed twice or lost"
    print(f"claimer a got {len(a)} rows, b got {len(b)}")  # how they interleave depends on the machine's load
    with Session(engine) as session:
        rows = session.scalars(select(Delivery)).all()
        assert len(rows) == 300 and {r.status for r in rows} == {"running"}
        leased = session.scalars(select(Reminder.leased_by)).all()
        assert sorted(leased) == sorted(["a"] * len(a) + ["b"] * len(b))
