"""Claim → run → record: success, rescheduling, retries, failures (injected clock, real SQLite file)."""
from datetime import timedelta

from app.engine import Outcome, retry_delay
from app.engine.attempt import Attempt, run_attempt
from tests.engine.conftest import Middle, at

W = "2030-01-01T08:00:00Z"


def test_one_off_success_completes(driver, make_reminder):
    rid = make_reminder(when=W)["id"]
    assert driver.claim(at(W) - timedelta(seconds=1)) == []
    [recorded] = driver.tick(at(W))
    assert recorded.delivery_status == "succeeded" and recorded.reminder_status == "completed"
    reminder = driver.reminder(rid)
    [row] = driver.deliveries(rid)
    assert (row.status, row.attempt, row.detail, row.error) == ("succeeded", 1, "logged 14 chars", None)
    assert row.scheduled_for == at(W).replace(tzinfo=None) and row.started_at and row.finished_at
    assert reminder.status == "completed" and reminder.runs == 1 and reminder.last_delivery_id == row.id
    assert reminder.next_run_at is None and reminder.lease_token is None and reminder.finished_at is not None
    assert driver.tick(at(W) + timedelta(days=1)) == []


def test_recurring_reschedules_to_the_next_occurrence(driver, make_reminder):
    rid = make_reminder(when=W, every="PT1H")["id"]
    for hour in range(3):
        now = at(W) + timedelta(hours=hour, milliseconds=5)
        [recorded] = driver.tick(now)
        assert recorded.next_run_at == at(W) + timedelta(hours=hour + 1)
    reminder = driver.reminder(rid)
    assert reminder.status == "scheduled" and reminder.runs == 3 and reminder.attempt == 0
    assert reminder.lease_token is None and reminder.occurrence_at == reminder.next_run_at
    assert [d.scheduled_for.hour for d in driver.deliveries(rid)] == [8, 9, 10]


def test_retries_back_off_exponentially_then_succeed(driver, make_reminder):
    rid = make_reminder(when=W, method="script", params={"outcomes": ["retry", "retry", "ok"]},
                        retry={"max_attempts": 5, "backoff": "PT10S", "max_age": "PT1H"})["id"]
    now = at(W)
    [first] = driver.tick(now)
    assert first.delivery_status == "retrying" and first.next_run_at == now + timedelta(seconds=10)
    assert driver.claim(now + timedelta(seconds=9)) == []
    now += timedelta(seconds=10)
    [second] = driver.tick(now)
    assert second.next_run_at == now + timedelta(seconds=20)
    now += timedelta(seconds=20)
    [third] = driver.tick(now)
    assert third.delivery_status == "succeeded" and third.reminder_status == "completed"
    rows = driver.deliveries(rid)
    assert [(d.attempt, d.status, d.error) for d in rows] == [(1, "retrying", "HTTP 503"), (2, "retrying", "HTTP 503"), (3, "succeeded", None)]
    assert {d.scheduled_for for d in rows} == {at(W).replace(tzinfo=None)}  # one occurrence, one identity


def test_jitter_is_within_twenty_percent_and_seeded():
    import random

    delays = [retry_delay(3, timedelta(seconds=10), rng=random.Random(7)).total_seconds() for _ in range(3)]
    assert delays[0] == delays[1] == delays[2]  # same seed, same delay
    spread = {retry_delay(3, timedelta(seconds=10), rng=random.Random(seed)).total_seconds() for seed in range(50)}
    assert min(spread) >= 32 and max(spread) <= 48 and len(spread) > 40
    assert retry_delay(3, timedelta(seconds=10), rng=Middle()) == timedelta(seconds=40)
    assert retry_delay(200, timedelta(seconds=30), rng=Middle()) > timedelta(days=365)  # no overflow


def test_max_attempts_fails_a_one_off(driver, make_reminder):
    rid = make_reminder(when=W, method="script", params={"outcomes": ["retry"]},
                        retry={"max_attempts": 2, "backoff": "PT1S", "max_age": "PT1H"})["id"]
    driver.tick(at(W))
    [last] = driver.tick(at(W) + timedelta(seconds=1))
    assert last.delivery_status == "failed" and last.reminder_status == "failed"
    assert [d.status for d in driver.deliveries(rid)] == ["retrying", "failed"]
    reminder = driver.reminder(rid)
    assert reminder.status == "failed" and reminder.next_run_at is None and reminder.runs == 0
    assert driver.tick(at(W) + timedelta(hours=1)) == []


def test_exhausted_recurring_goes_on_to_its_next_occurrence(driver, make_reminder):
    rid = make_reminder(when=W, every="PT1H", method="script", params={"outcomes": ["retry"]},
                        retry={"max_attempts": 2, "backoff": "PT1S"})["id"]
    driver.tick(at(W))
    [last] = driver.tick(at(W) + timedelta(seconds=1))
    assert last.delivery_status == "failed" and last.reminder_status == "scheduled"
    assert last.next_run_at == at(W) + timedelta(hours=1)
    assert driver.reminder(rid).attempt == 0


def test_max_age_stops_retrying(driver, make_reminder):
    rid = make_reminder(when=W, method="script", params={"outcomes": ["retry"]},
                        retry={"max_attempts": 10, "backoff": "PT10M", "max_age": "PT5M"})["id"]
    [recorded] = driver.tick(at(W))
    assert recorded.delivery_status == "failed" and recorded.reminder_status == "failed"
    assert [d.status for d in driver.deliveries(rid)] == ["failed"]


def test_permanent_error_fails_at_once(driver, make_reminder):
    rid = make_reminder(when=W, every="P1D", method="script", params={"outcomes": ["permanent"]},
                        retry={"max_attempts": 5})["id"]
    [recorded] = driver.tick(at(W))
    assert recorded.delivery_status == "failed" and recorded.next_run_at == at(W) + timedelta(days=1)
    [row] = driver.deliveries(rid)
    assert row.error == "HTTP 404" and row.attempt == 1


def test_retry_after_is_honoured(driver, make_reminder):
    make_reminder(when=W, method="script", params={"outcomes": ["retry_after:120", "ok"]}, retry={"backoff": "PT1S"})
    [recorded] = driver.tick(at(W))
    assert recorded.delivery_status == "retrying" and recorded.next_run_at == at(W) + timedelta(seconds=120)


def test_other_exceptions_are_retryable_and_keep_only_the_class_name(driver, make_reminder):
    rid = make_reminder(when=W, method="script", params={"outcomes": ["crash", "ok"]}, retry={"backoff": "PT1S"})["id"]
    [recorded] = driver.tick(at(W))
    assert recorded.delivery_status == "retrying"
    [row] = driver.deliveries(rid)
    assert row.error == "ValueError"  # never the message: it may hold a secret


def test_run_attempt_unknown_process_is_permanent(registry):
    attempt = Attempt(delivery_id=1, reminder_id=1, scheduled_for=at(W), attempt=1, lease_token="t", method="nope", message="m")
    outcome = run_attempt(attempt, registry)
    assert outcome == Outcome("permanent", error="unknown remind process 'nope'")


def test_claim_takes_at_most_limit_in_due_order(driver, client, admin):
    body = {"reminders": [{"message": f"m{i}", "method": "log", "when": f"2030-01-01T08:{59 - i:02d}:00Z"} for i in range(10)]}
    response = client.post("/reminders/batch", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    now = at("2030-01-01T09:00:00Z")
    first = driver.claim(now, limit=4)
    assert [a.scheduled_for.minute for a in first] == [50, 51, 52, 53]
    rest = driver.claim(now, limit=100)
    assert len(rest) == 6 and not {a.reminder_id for a in first} & {a.reminder_id for a in rest}
    assert driver.claim(now, limit=100) == []


def test_a_batch_of_outcomes_is_recorded_in_one_transaction(driver, session, config, make_reminder, client, admin):
    from app.engine import record_outcomes

    ok = make_reminder(when=W)["id"]
    flaky = make_reminder(when=W, every="PT1H", method="script", params={"outcomes": ["retry"]}, retry={"backoff": "PT1S"})["id"]
    paused = make_reminder(when=W, every="PT1H")["id"]
    manual = make_reminder(when="2031-01-01T00:00:00Z")["id"]
    client.post(f"/reminders/{manual}/trigger", headers=admin)
    attempts = {a.reminder_id: a for a in driver.claim(at(W))}
    assert set(attempts) == {ok, flaky, paused, manual}
    client.post(f"/reminders/{paused}/pause", headers=admin)
    results = [(a, run_attempt(a, driver.registry), at(W) + timedelta(seconds=2)) for a in attempts.values()]
    recorded = dict(zip(attempts, record_outcomes(session, results, config, rng=Middle())))
    assert recorded[ok].reminder_status == "completed"
    assert recorded[flaky].delivery_status == "retrying" and recorded[flaky].next_run_at == at(W) + timedelta(seconds=3)
    assert recorded[paused].stale and recorded[manual].delivery_status == "succeeded"
    assert [d.status for d in driver.deliveries(paused)] == ["succeeded"]
    assert driver.reminder(manual).last_delivery_id == attempts[manual].delivery_id
