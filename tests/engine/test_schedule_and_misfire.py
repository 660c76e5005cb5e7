"""Recurrence through the engine (windows, DST, until/max_runs) and misfires with coalescing."""
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.engine.conftest import at

BERLIN = ZoneInfo("Europe/Berlin")


def test_window_skip_is_recorded_as_skipped(driver, make_reminder):
    rid = make_reminder(when="2030-01-01T00:00:00Z", cron="0 3,12 * * *", timezone="UTC",
                        window={"start": "08:00", "end": "21:00", "outside": "skip"})["id"]
    reminder = driver.reminder(rid)
    assert reminder.occurrence_skip and reminder.next_run_at.hour == 3
    assert driver.tick(at("2030-01-01T03:00:00Z")) == []  # nothing delivered ...
    rows = driver.deliveries(rid)
    assert [(d.status, d.attempt, d.scheduled_for.hour) for d in rows] == [("skipped", 0, 3)]  # ... but recorded
    reminder = driver.reminder(rid)
    assert reminder.next_run_at.hour == 12 and not reminder.occurrence_skip and reminder.last_delivery_id == rows[0].id
    [recorded] = driver.tick(at("2030-01-01T12:00:00Z"))
    assert recorded.delivery_status == "succeeded" and recorded.next_run_at == at("2030-01-02T03:00:00Z")


def test_window_defer_moves_to_the_opening(driver, make_reminder):
    make_reminder(when="2030-01-01T00:00:00Z", cron="0 6 * * *", timezone="UTC",
                  window={"start": "08:00", "end": "21:00"})
    assert driver.tick(at("2030-01-01T06:00:00Z")) == []
    [recorded] = driver.tick(at("2030-01-01T08:00:00Z"))
    assert recorded.delivery_status == "succeeded" and recorded.next_run_at == at("2030-01-02T08:00:00Z")


def test_daily_cron_stays_at_eight_local_across_dst(driver, make_reminder):
    rid = make_reminder(when="2030-03-29T00:00:00", cron="0 8 * * *", timezone="Europe/Berlin")["id"]
    seen = []
    for _ in range(4):  # Berlin springs forward on 2030-03-31
        due = driver.reminder(rid).next_run_at.replace(tzinfo=ZoneInfo("UTC"))
        [recorded] = driver.tick(due)
        seen.append(due)
        assert recorded.delivery_status == "succeeded"
    assert [d.astimezone(BERLIN).strftime("%m-%d %H:%M") for d in seen] == ["03-29 08:00", "03-30 08:00", "03-31 08:00", "04-01 08:00"]
    assert [d.hour for d in seen] == [7, 7, 6, 6]  # UTC: the offset moved from +1 to +2


def test_max_runs_completes(driver, make_reminder):
    rid = make_reminder(when="2030-01-01T08:00:00Z", every="PT1H", max_runs=2)["id"]
    [first] = driver.tick(at("2030-01-01T08:00:00Z"))
    [second] = driver.tick(at("2030-01-01T09:00:00Z"))
    assert first.reminder_status == "scheduled" and second.reminder_status == "completed"
    assert driver.reminder(rid).runs == 2 and driver.tick(at("2030-01-01T10:00:00Z")) == []


def test_until_completes(driver, make_reminder):
    rid = make_reminder(when="2030-01-01T08:00:00Z", every="PT1H", until="2030-01-01T09:30:00Z")["id"]
    driver.tick(at("2030-01-01T08:00:00Z"))
    [last] = driver.tick(at("2030-01-01T09:00:00Z"))
    assert last.reminder_status == "completed" and last.next_run_at is None
    reminder = driver.reminder(rid)
    assert reminder.status == "completed" and reminder.runs == 2 and reminder.finished_at is not None


def test_misfire_coalesces_three_hours_of_minutes_into_one_missed_row(driver, make_reminder):
    rid = make_reminder(when="2030-01-01T08:00:00Z", every="PT1M", misfire_grace="PT10M")["id"]
    now = at("2030-01-01T11:00:30Z")  # the scheduler was away for three hours
    [recorded] = driver.tick(now)
    rows = driver.deliveries(rid)
    assert [(d.status, d.scheduled_for.strftime("%H:%M")) for d in rows] == [("missed", "08:00"), ("succeeded", "11:00")]
    assert rows[0].attempt == 0 and rows[0].detail.startswith("missed 180 occurrences from 2030-01-01T08:00:00Z to 2030-01-01T10:59:00Z")
    assert recorded.next_run_at == at("2030-01-01T11:01:00Z")
    assert driver.reminder(rid).runs == 1  # missed occurrences are not runs


def test_overdue_within_grace_coalesce_into_the_newest(driver, make_reminder):
    rid = make_reminder(when="2030-01-01T08:00:00Z", every="PT1M", misfire_grace="PT1H")["id"]
    [recorded] = driver.tick(at("2030-01-01T08:03:10Z"))
    rows = driver.deliveries(rid)
    assert [(d.status, d.scheduled_for.strftime("%H:%M")) for d in rows] == [("missed", "08:00"), ("succeeded", "08:03")]
    assert "missed 3 occurrences" in rows[0].detail and "coalesced into the one at 2030-01-01T08:03:00Z" in rows[0].detail
    assert recorded.next_run_at == at("2030-01-01T08:04:00Z")


def test_newest_beyond_grace_is_missed_and_the_next_future_one_planned(driver, make_reminder):
    rid = make_reminder(when="2030-01-01T08:00:00Z", every="PT1H", misfire_grace="PT10M")["id"]
    assert driver.tick(at("2030-01-01T10:30:00Z")) == []
    [row] = driver.deliveries(rid)
    assert row.status == "missed" and "missed 3 occurrences from 2030-01-01T08:00:00Z to 2030-01-01T10:00:00Z" in row.detail
    reminder = driver.reminder(rid)
    assert reminder.next_run_at == at("2030-01-01T11:00:00Z").replace(tzinfo=None) and reminder.attempt == 0
    assert reminder.lease_token is None and reminder.status == "scheduled"


def test_one_off_older_than_grace_is_missed_and_fails(driver, make_reminder):
    rid = make_reminder(when="2030-01-01T08:00:00Z", misfire_grace="PT10M")["id"]
    assert driver.tick(at("2030-01-01T09:00:00Z")) == []
    [row] = driver.deliveries(rid)
    assert row.status == "missed" and row.detail.startswith("missed the occurrence at 2030-01-01T08:00:00Z")
    assert driver.reminder(rid).status == "failed"


def test_one_off_created_with_a_past_when_fires(driver, make_reminder):
    from app.timeutil import utcnow

    now = utcnow()
    rid = make_reminder(when=(now - timedelta(days=2)).isoformat(), misfire_grace="PT10M")["id"]
    [recorded] = driver.tick(now + timedelta(seconds=1))
    assert recorded.delivery_status == "succeeded" and driver.reminder(rid).status == "completed"


def test_a_retry_is_never_a_misfire(driver, make_reminder):
    make_reminder(when="2030-01-01T08:00:00Z", every="PT1M", misfire_grace="PT1M", method="script",
                  params={"outcomes": ["retry", "ok"]}, retry={"backoff": "PT5M", "max_age": "PT1H"})
    [first] = driver.tick(at("2030-01-01T08:00:00Z"))
    [second] = driver.tick(first.next_run_at)  # 5 minutes late for its occurrence, but a retry
    assert second.delivery_status == "succeeded"


def test_catch_up_stops_counting_at_its_limit_and_still_fires_the_newest():
    from app.engine import catch_up
    from app.engine.catchup import missed_detail
    from app.schedule import ScheduleSpec

    start = at("2030-01-01T00:00:00Z")
    spec = ScheduleSpec(kind="every", when=start, every=timedelta(minutes=1))
    now = start + timedelta(days=30, seconds=20)
    result = catch_up(spec, start, False, start, now, timedelta(minutes=10), limit=1000)
    assert result.more and result.missed >= 1000 and result.fire == start + timedelta(days=30)
    assert missed_detail(result, "PT10M").startswith(f"missed more than {result.missed} occurrences from 2030-01-01T00:00:00Z")


def test_catch_up_on_time_is_the_pending_occurrence():
    from app.engine import catch_up
    from app.schedule import ScheduleSpec

    start = at("2030-01-01T00:00:00Z")
    spec = ScheduleSpec(kind="cron", cron="*/5 * * * *", when=start)
    result = catch_up(spec, start, False, start - timedelta(days=1), start + timedelta(milliseconds=3), timedelta(minutes=1))
    assert (result.fire, result.missed, result.last_seen) == (start, 0, start)
