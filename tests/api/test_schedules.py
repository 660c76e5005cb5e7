"""Schedules through the API: DST, windows, until/max_runs, and the two preview routes.

The preview routes read the real clock, so these use dates after today (2027 onwards);
the 2026-10-25 fold, already past, goes through the stored reminder and app.planning
with an explicit `now`, as the scheduler would.
"""
from datetime import datetime, timezone

import pytest

from app.models import Reminder

BASE = {"message": "m", "method": "log"}


def preview(client, admin, n=10, **body):
    """POST /reminders/preview; the occurrences."""
    response = client.post(f"/reminders/preview?n={n}", json={**BASE, **body}, headers=admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["occurrences"]


def ats(occurrences):
    """The UTC instants of preview occurrences."""
    return [o["at"] for o in occurrences]


def test_preview_saves_nothing_and_matches_the_saved_preview(client, admin, make_reminder, count_rows):
    body = {"when": "2027-01-04T09:00:00", "cron": "0 9 * * mon", "timezone": "Europe/Paris"}
    unsaved = client.post("/reminders/preview?n=5", json={**BASE, **body}, headers=admin).get_json()
    assert count_rows(Reminder) == 0
    reminder = make_reminder(**body)
    saved = client.get(f"/reminders/{reminder['id']}/preview?n=5", headers=admin).get_json()
    assert saved == unsaved and saved["timezone"] == "Europe/Paris"
    assert ats(saved["occurrences"]) == [f"2027-01-{d:02d}T08:00:00.000Z" for d in (4, 11, 18, 25)] + ["2027-02-01T08:00:00.000Z"]
    assert reminder["next_run_at"] == "2027-01-04T08:00:00.000Z"
    first = saved["occurrences"][0]
    assert first["local"] == "2027-01-04T09:00:00+01:00" and first["nominal"] == first["at"]
    assert (first["deferred"], first["dst_shifted"]) == (False, False)


@pytest.mark.parametrize("n", [1, 3, 100])
def test_preview_gives_n_occurrences(client, admin, n):
    assert len(preview(client, admin, n=n, when="2027-01-01T00:00:00Z", every="PT1H")) == n


def test_preview_respects_until_and_max_runs(client, admin):
    assert len(preview(client, admin, when="2027-01-01T00:00:00Z", every="PT1H", max_runs=3)) == 3
    assert ats(preview(client, admin, when="2027-01-01T00:00:00Z", every="PT1H", until="2027-01-01T02:00:00Z")) == [
        "2027-01-01T00:00:00.000Z", "2027-01-01T01:00:00.000Z", "2027-01-01T02:00:00.000Z"]


def test_preview_of_a_finished_reminder_is_empty(client, admin, make_reminder, app):
    from app.extensions import db

    reminder = make_reminder()
    with app.app_context():
        db.session.get(Reminder, reminder["id"]).status = "completed"
        db.session.commit()
    assert client.get(f"/reminders/{reminder['id']}/preview", headers=admin).get_json()["occurrences"] == []


# --- DST: Europe/Berlin -------------------------------------------------------------

def test_berlin_spring_gap_one_off_runs_at_the_first_instant_after_it(client, admin, make_reminder):
    body = {"when": "2027-03-28T02:30:00", "timezone": "Europe/Berlin"}
    [occurrence] = preview(client, admin, **body)
    assert occurrence["at"] == "2027-03-28T01:00:00.000Z"  # 03:00 CEST: the first instant after the gap
    assert occurrence["local"] == "2027-03-28T03:00:00+02:00"
    assert occurrence["dst_shifted"] is True
    assert make_reminder(**body)["next_run_at"] == "2027-03-28T01:00:00.000Z"


def test_berlin_spring_gap_daily_cron(client, admin):
    found = preview(client, admin, n=3, when="2027-03-27T00:00:00", cron="30 2 * * *", timezone="Europe/Berlin")
    assert ats(found) == ["2027-03-27T01:30:00.000Z", "2027-03-28T01:00:00.000Z", "2027-03-29T00:30:00.000Z"]
    assert [o["dst_shifted"] for o in found] == [False, True, False]
    assert [o["local"][11:16] for o in found] == ["02:30", "03:00", "02:30"]


def test_berlin_autumn_fold_one_off_runs_once_at_the_first(make_reminder):
    # 2026-10-25 02:30 happened twice in Berlin (CEST, then CET): the first is 00:30Z.
    reminder = make_reminder(when="2026-10-25T02:30:00", timezone="Europe/Berlin")
    assert reminder["when"] == "2026-10-25T00:30:00.000Z"
    assert reminder["next_run_at"] == "2026-10-25T00:30:00.000Z"  # in the past now: due at once


def test_berlin_autumn_fold_2026_through_the_planning_functions(app, make_reminder):
    """The stored reminder, planned with the scheduler's functions at an explicit `now` before the fold."""
    from app.extensions import db
    from app.planning import plan_first, plan_next

    reminder = make_reminder(when=None, cron="30 2 * * *", timezone="Europe/Berlin")
    with app.app_context():
        row = db.session.get(Reminder, reminder["id"])
        first = plan_first(row, datetime(2026, 10, 24, 12, 0, tzinfo=timezone.utc))
        row.runs += 1
        second = plan_next(row, first.at)
        db.session.rollback()
    assert first.at == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)  # once, at the first 02:30
    assert second.at == datetime(2026, 10, 26, 1, 30, tzinfo=timezone.utc)  # not again at 01:30Z on the 25th


def test_berlin_autumn_fold_daily_cron_runs_once(client, admin):
    found = preview(client, admin, n=3, when="2027-10-30T00:00:00", cron="30 2 * * *", timezone="Europe/Berlin")
    assert ats(found) == ["2027-10-30T00:30:00.000Z", "2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"]
    assert not any(o["dst_shifted"] for o in found)


# --- DST: America/New_York daily at 08:00 across both changes ---------------------------

NY_SPRING = ["2027-03-13T13:00:00.000Z", "2027-03-14T12:00:00.000Z", "2027-03-15T12:00:00.000Z"]
NY_AUTUMN = ["2027-11-06T12:00:00.000Z", "2027-11-07T13:00:00.000Z", "2027-11-08T13:00:00.000Z"]


@pytest.mark.parametrize(
    "schedule",
    [{"cron": "0 8 * * *"}, {"rrule": "FREQ=DAILY"}, {"every": "P1D"}],
    ids=["cron", "rrule", "every-P1D"],
)
@pytest.mark.parametrize("start, expected", [("2027-03-13T08:00:00", NY_SPRING), ("2027-11-06T08:00:00", NY_AUTUMN)],
                         ids=["spring", "autumn"])
def test_new_york_daily_0800_stays_0800_local(client, admin, make_reminder, schedule, start, expected):
    body = {"when": start, "timezone": "America/New_York", **schedule}
    found = preview(client, admin, n=3, **body)
    assert ats(found) == expected
    assert all(o["local"][11:16] == "08:00" for o in found)
    assert not any(o["dst_shifted"] or o["deferred"] for o in found)
    reminder = make_reminder(**body)
    assert reminder["next_run_at"] == expected[0]
    assert ats(client.get(f"/reminders/{reminder['id']}/preview?n=3", headers=admin).get_json()["occurrences"]) == expected


# --- windows ---------------------------------------------------------------------------

NIGHT = {"start": "22:00", "end": "07:00"}  # wraps midnight
# 06:00, 12:00 and 23:00 Berlin (winter, UTC+1) every day from 2027-01-10.
THREE_A_DAY = {"when": "2027-01-10T00:00:00", "cron": "0 6,12,23 * * *", "timezone": "Europe/Berlin"}


def test_window_wrapping_midnight_defers_to_its_opening(client, admin):
    found = preview(client, admin, n=6, window={**NIGHT, "outside": "defer"}, **THREE_A_DAY)
    assert ats(found) == ["2027-01-10T05:00:00.000Z", "2027-01-10T21:00:00.000Z", "2027-01-10T22:00:00.000Z",
                          "2027-01-11T05:00:00.000Z", "2027-01-11T21:00:00.000Z", "2027-01-11T22:00:00.000Z"]
    deferred = found[1]
    assert deferred["deferred"] is True and deferred["nominal"] == "2027-01-10T11:00:00.000Z"
    assert deferred["local"] == "2027-01-10T22:00:00+01:00"
    assert [o["deferred"] for o in found] == [False, True, False] * 2


def test_window_defer_is_the_default(client, admin):
    default = preview(client, admin, n=6, window=NIGHT, **THREE_A_DAY)
    assert default == preview(client, admin, n=6, window={**NIGHT, "outside": "defer"}, **THREE_A_DAY)


def test_window_wrapping_midnight_skips(client, admin):
    found = preview(client, admin, n=4, window={**NIGHT, "outside": "skip"}, **THREE_A_DAY)
    assert ats(found) == ["2027-01-10T05:00:00.000Z", "2027-01-10T22:00:00.000Z",
                          "2027-01-11T05:00:00.000Z", "2027-01-11T22:00:00.000Z"]
    assert not any(o["deferred"] for o in found)


def test_window_moves_next_run_at(make_reminder):
    body = {"when": "2027-01-10T12:00:00", "timezone": "Europe/Berlin"}
    assert make_reminder(**body, window={**NIGHT, "outside": "defer"})["next_run_at"] == "2027-01-10T21:00:00.000Z"
    assert make_reminder(**body)["next_run_at"] == "2027-01-10T11:00:00.000Z"


def test_window_added_by_patch_moves_next_run_at(client, admin, make_reminder):
    reminder = make_reminder(when="2027-01-10T12:00:00", timezone="Europe/Berlin")
    changed = client.patch(f"/reminders/{reminder['id']}", json={"window": NIGHT}, headers=admin).get_json()
    assert changed["next_run_at"] == "2027-01-10T21:00:00.000Z"
    removed = client.patch(f"/reminders/{reminder['id']}", json={"window": None}, headers=admin).get_json()
    assert removed["next_run_at"] == "2027-01-10T11:00:00.000Z" and removed["window"] is None


# --- start and kinds -------------------------------------------------------------------------

def test_when_is_the_earliest_start_of_a_cron(client, admin):
    found = preview(client, admin, n=2, when="2028-02-01T00:00:00Z", cron="0 12 * * *")
    assert ats(found) == ["2028-02-01T12:00:00.000Z", "2028-02-02T12:00:00.000Z"]


def test_crontab_weekdays_count_from_sunday(client, admin):
    # 2027-01-03 is a Sunday: "0" and "7" both mean Sunday, as in crontab.
    for weekday in ("0", "7", "sun"):
        assert ats(preview(client, admin, n=1, when="2027-01-01T00:00:00Z", cron=f"0 9 * * {weekday}")) == [
            "2027-01-03T09:00:00.000Z"]


def test_rrule_every_other_tuesday(client, admin):
    found = preview(client, admin, n=3, when="2027-01-05T18:00:00", rrule="FREQ=WEEKLY;BYDAY=TU;INTERVAL=2",
                    timezone="Europe/London")
    assert ats(found) == ["2027-01-05T18:00:00.000Z", "2027-01-19T18:00:00.000Z", "2027-02-02T18:00:00.000Z"]


def test_every_without_when_starts_now(client, admin):
    found = preview(client, admin, n=2, every="PT15M")
    first, second = (datetime.fromisoformat(o["at"].replace("Z", "+00:00")) for o in found)
    assert abs((first - datetime.now(timezone.utc)).total_seconds()) < 60
    assert (second - first).total_seconds() == 900
