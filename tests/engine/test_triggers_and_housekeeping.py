"""Manual triggers, heartbeats and pruning."""
from datetime import timedelta

from sqlalchemy import func, select

from app.engine import Peek, beat, claim_manual, forget, manual_waiting, next_due, peek, prune, prune_step
from app.engine.triggers import DELETED
from app.models import Delivery, Reminder, SchedulerHeartbeat
from tests.engine.conftest import at

W = "2030-01-01T08:00:00Z"


def trigger(client, admin, rid):
    response = client.post(f"/reminders/{rid}/trigger", headers=admin)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def test_manual_trigger_runs_once_and_leaves_the_schedule_alone(driver, make_reminder, client, admin, session):
    rid = make_reminder(when=W, every="PT1H")["id"]
    before = driver.reminder(rid).next_run_at
    assert not manual_waiting(session, at(W))
    delivery_id = trigger(client, admin, rid)
    assert manual_waiting(session, at("2020-01-01T00:00:00Z"))
    [attempt] = driver.claim(at("2020-01-01T00:00:00Z"))  # whatever the clock says, a trigger is due
    assert attempt.manual and attempt.delivery_id == delivery_id
    recorded = driver.finish(at("2020-01-01T00:00:01Z"), attempt)
    assert recorded.delivery_status == "succeeded"
    reminder = driver.reminder(rid)
    assert reminder.next_run_at == before and reminder.runs == 0 and reminder.last_delivery_id == delivery_id
    [row] = driver.deliveries(rid)
    assert (row.status, row.manual, row.attempt, row.detail) == ("succeeded", True, 1, "logged 14 chars")
    assert not manual_waiting(session, at(W))


def test_manual_failure_is_not_retried(driver, make_reminder, client, admin):
    rid = make_reminder(when=W, method="script", params={"outcomes": ["retry"]})["id"]
    trigger(client, admin, rid)
    [recorded] = driver.tick(at("2020-01-01T00:00:00Z"))
    assert recorded.delivery_status == "failed"
    assert [(d.status, d.error) for d in driver.deliveries(rid)] == [("failed", "HTTP 503")]
    assert driver.claim(at("2020-01-01T01:00:00Z")) == []


def test_manual_trigger_taken_over_after_its_lease_expires(driver, make_reminder, client, admin, session):
    rid = make_reminder(when=W)["id"]
    trigger(client, admin, rid)
    t0 = at("2020-01-01T00:00:00Z")
    [lost] = claim_manual(session, t0, scheduler_id="dead", lease_seconds=10, limit=5)
    assert claim_manual(session, t0 + timedelta(seconds=9), scheduler_id="b", lease_seconds=10, limit=5) == []
    [again] = claim_manual(session, t0 + timedelta(seconds=10), scheduler_id="b", lease_seconds=10, limit=5)
    assert again.delivery_id == lost.delivery_id and again.attempt == 2
    assert driver.finish(t0 + timedelta(seconds=11), lost).stale  # the dead one's late word does not count
    assert driver.finish(t0 + timedelta(seconds=11), again).delivery_status == "succeeded"
    assert [d.status for d in driver.deliveries(rid)] == ["succeeded"]


def test_trigger_of_a_reminder_deleted_while_claimed_is_not_run(driver, make_reminder, client, admin, session, engine):
    rid = make_reminder(when=W)["id"]
    trigger(client, admin, rid)
    t0 = at("2020-01-01T00:00:00Z")
    claim_manual(session, t0, scheduler_id="dead", lease_seconds=10, limit=5)
    assert client.delete(f"/reminders/{rid}", headers=admin).status_code == 204
    assert claim_manual(session, t0 + timedelta(seconds=11), scheduler_id="b", lease_seconds=10, limit=5) == []
    assert [(d.status, d.error) for d in driver.deliveries(rid)] == [("failed", DELETED)]


def test_next_due_is_the_earliest_scheduled(driver, make_reminder, session, client, admin):
    assert next_due(session) is None and peek(session, at(W)) == Peek(None, False)
    make_reminder(when="2030-01-02T00:00:00Z")
    early = make_reminder(when=W)["id"]
    assert next_due(session) == at(W)
    client.post(f"/reminders/{early}/pause", headers=admin)
    assert next_due(session) == at("2030-01-02T00:00:00Z")
    trigger(client, admin, early)
    assert peek(session, at(W)) == Peek(at("2030-01-02T00:00:00Z"), True)
    [attempt] = claim_manual(session, at(W), scheduler_id="s", lease_seconds=10, limit=5)
    assert peek(session, at(W) + timedelta(seconds=9)).manual_waiting is False
    assert peek(session, at(W) + timedelta(seconds=10)).manual_waiting is True  # its lease expired


def test_heartbeat_upserts_one_row_per_scheduler(session):
    t0 = at(W)
    beat(session, t0, scheduler_id="s1", hostname="box", pid=42, started_at=t0)
    beat(session, t0 + timedelta(seconds=5), scheduler_id="s1", hostname="box", pid=42, started_at=t0)
    beat(session, t0 + timedelta(seconds=6), scheduler_id="s2", hostname="box", pid=43)
    rows = {r.scheduler_id: r for r in session.scalars(select(SchedulerHeartbeat))}
    assert set(rows) == {"s1", "s2"}
    assert rows["s1"].seen_at == (t0 + timedelta(seconds=5)).replace(tzinfo=None) and rows["s1"].pid == 42
    assert rows["s1"].started_at == t0.replace(tzinfo=None)
    forget(session, "s2")
    assert session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 1


def _counts(session):
    session.expire_all()
    result = (session.scalar(select(func.count()).select_from(Reminder)), session.scalar(select(func.count()).select_from(Delivery)))
    session.commit()
    return result


def test_prune_keeps_what_retention_keeps(driver, make_reminder, session, config):
    done = make_reminder(when=W)["id"]
    recurring = make_reminder(when=W, every="P1D")["id"]
    driver.tick(at(W))  # `done` completes; `recurring` gets a delivery and goes on
    beat(session, at(W), scheduler_id="old")
    assert _counts(session) == (2, 2)

    config.RETENTION_REMINDERS_DAYS, config.RETENTION_DELIVERIES_DAYS = 30, 90
    assert prune(session, at(W) + timedelta(days=29), config) == {"deliveries": 0, "reminders": 0, "heartbeats": 1}
    counts = prune(session, at(W) + timedelta(days=31), config, batch=1)
    assert counts == {"deliveries": 1, "reminders": 1, "heartbeats": 0}  # the finished one, with its delivery
    assert session.get(Reminder, done) is None and driver.reminder(recurring).status == "scheduled"
    assert prune(session, at(W) + timedelta(days=91), config)["deliveries"] == 1  # the recurring one's old attempt
    assert _counts(session) == (1, 0)


def test_prune_with_zero_keeps_forever(driver, make_reminder, session, config):
    make_reminder(when=W)
    driver.tick(at(W))
    config.RETENTION_REMINDERS_DAYS = config.RETENTION_DELIVERIES_DAYS = 0
    assert prune(session, at(W) + timedelta(days=3650), config) == {"deliveries": 0, "reminders": 0, "heartbeats": 0}
    assert _counts(session) == (1, 1)


def test_prune_deletes_in_batches(driver, client, admin, session, config):
    body = {"reminders": [{"message": "m", "method": "log", "when": W} for _ in range(25)]}
    assert client.post("/reminders/batch", json=body, headers=admin).status_code == 201
    driver.tick(at(W))
    config.RETENTION_REMINDERS_DAYS, config.RETENTION_DELIVERIES_DAYS = 1, 0
    later = at(W) + timedelta(days=2)
    assert prune_step(session, later, config, batch=10) == {"deliveries": 10, "reminders": 0, "heartbeats": 0}
    assert _counts(session) == (25, 15)
    assert prune(session, later, config, batch=10) == {"deliveries": 15, "reminders": 25, "heartbeats": 0}
    assert _counts(session) == (0, 0)
