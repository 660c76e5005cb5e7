"""Create, read, change, delete, pause, resume and trigger reminders through the API."""
from datetime import datetime, timedelta, timezone

import pytest

FUTURE = "2099-01-01T08:00:00Z"


def parse(instant):
    """An API instant ("…Z") as an aware datetime."""
    assert instant.endswith("Z"), instant
    return datetime.fromisoformat(instant.replace("Z", "+00:00"))


def test_create_answers_201_with_location_and_the_reminder(client, admin):
    body = {"message": "Take the pills", "method": "log", "when": "2030-01-01T09:00:00", "timezone": "Europe/Berlin",
            "tags": ["family"], "retry": {"max_attempts": 3, "backoff": "PT30S"}, "misfire_grace": "PT1H"}
    response = client.post("/reminders", json=body, headers=admin)
    assert response.status_code == 201
    reminder = response.get_json()
    assert response.headers["Location"].endswith(f"/reminders/{reminder['id']}")
    assert client.get(response.headers["Location"], headers=admin).get_json() == reminder
    assert reminder["when"] == "2030-01-01T08:00:00.000Z"  # 09:00 Berlin in winter
    assert reminder["next_run_at"] == "2030-01-01T08:00:00.000Z"
    assert reminder["status"] == "scheduled"
    assert reminder["runs"] == 0 and reminder["last_delivery"] is None
    assert reminder["tags"] == ["family"]
    assert reminder["retry"] == {"max_attempts": 3, "backoff": "PT30S"}
    assert parse(reminder["created_at"]) and parse(reminder["updated_at"])
    assert {"id", "message", "method", "params", "when", "every", "cron", "rrule", "until", "max_runs", "timezone",
            "window", "retry", "misfire_grace", "tags", "status", "next_run_at", "runs", "last_delivery",
            "created_at", "updated_at"} <= set(reminder)


def test_instant_with_offset_is_exact_and_answered_in_utc(make_reminder):
    reminder = make_reminder(when="2030-06-01T10:00:00+02:00", timezone="America/New_York")
    assert reminder["when"] == "2030-06-01T08:00:00.000Z"


def test_default_timezone_comes_from_settings(tmp_path):
    from app import create_app
    from app.extensions import db
    from tests.conftest import ADMIN_KEY, make_config

    app = create_app(make_config(tmp_path, DEFAULT_TIMEZONE="Asia/Tokyo"))
    with app.app_context():
        db.create_all()
    response = app.test_client().post("/reminders", json={"message": "m", "when": "2030-01-01T09:00:00"},
                                      headers={"X-API-Key": ADMIN_KEY})
    assert response.get_json()["timezone"] == "Asia/Tokyo"
    assert response.get_json()["when"] == "2030-01-01T00:00:00.000Z"
    with app.app_context():
        db.engine.dispose()


def test_method_defaults_and_api_is_webhook(client, admin, make_reminder):
    response = client.post("/reminders", json={"message": "m", "when": FUTURE}, headers=admin)
    assert response.status_code == 201 and response.get_json()["method"] == "log"
    reminder = make_reminder(method="api", params={"url": "https://example.com/hook"})
    assert reminder["method"] == "webhook"


def test_past_when_is_due_at_once(make_reminder):
    reminder = make_reminder(when="2020-01-01T00:00:00Z")
    assert reminder["status"] == "scheduled"
    assert reminder["next_run_at"] == "2020-01-01T00:00:00.000Z"


def test_secrets_are_never_echoed(client, admin, make_reminder):
    reminder = make_reminder(method="webhook", params={"url": "https://example.com/h", "secret": "s3cr3t-value",
                                                       "headers": {"Authorization": "Bearer tok-123"}})
    for response in (client.get(f"/reminders/{reminder['id']}", headers=admin), client.get("/reminders", headers=admin)):
        assert "s3cr3t-value" not in response.get_data(as_text=True)
        assert "tok-123" not in response.get_data(as_text=True)


def test_get_unknown_id_is_404_json(client, admin):
    response = client.get("/reminders/999", headers=admin)
    assert response.status_code == 404
    assert "999" in response.get_json()["error"]


@pytest.mark.parametrize(
    "change, expect",
    [
        ({"message": "New text"}, {"message": "New text"}),
        ({"params": {"level": "warning"}}, {"params": {"level": "warning"}}),
        ({"tags": ["a", "b"]}, {"tags": ["a", "b"]}),
        ({"retry": {"max_attempts": 2, "max_age": "PT2H"}}, {"retry": {"max_attempts": 2, "max_age": "PT2H"}}),
        ({"window": {"start": "08:00", "end": "21:00", "outside": "skip"}},
         {"window": {"start": "08:00", "end": "21:00", "outside": "skip"}}),
        ({"misfire_grace": "PT5M"}, {"misfire_grace": "PT5M"}),
        ({"when": "2098-05-05T05:05:00Z"}, {"when": "2098-05-05T05:05:00.000Z", "next_run_at": "2098-05-05T05:05:00.000Z"}),
    ],
)
def test_patch_changes_fields(client, admin, make_reminder, change, expect):
    reminder = make_reminder()
    response = client.patch(f"/reminders/{reminder['id']}", json=change, headers=admin)
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    for name, value in expect.items():
        assert changed[name] == value
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json() == changed


def test_patch_switches_once_to_cron_and_recomputes_next_run(client, admin, make_reminder):
    reminder = make_reminder(when=FUTURE)
    response = client.patch(f"/reminders/{reminder['id']}", json={"cron": "0 8 * * *"}, headers=admin)
    changed = response.get_json()
    assert response.status_code == 200, changed
    assert changed["cron"] == "0 8 * * *"
    # The old one-off time is not kept as the cron's start: the next 08:00 UTC comes within a day.
    next_run = parse(changed["next_run_at"])
    now = datetime.now(timezone.utc)
    assert now < next_run <= now + timedelta(days=1)
    assert (next_run.hour, next_run.minute) == (8, 0)


def test_patch_switches_cron_to_every_and_back_to_once(client, admin, make_reminder):
    reminder = make_reminder(when=None, cron="0 8 * * *")
    every = client.patch(f"/reminders/{reminder['id']}", json={"every": "PT2H"}, headers=admin).get_json()
    assert (every["every"], every["cron"]) == ("PT2H", None)
    once = client.patch(f"/reminders/{reminder['id']}", json={"every": None, "when": FUTURE}, headers=admin)
    assert once.status_code == 200, once.get_json()
    assert (once.get_json()["every"], once.get_json()["next_run_at"]) == (None, "2099-01-01T08:00:00.000Z")


def test_patch_to_another_method_starts_from_its_own_params(client, admin, make_reminder):
    reminder = make_reminder(method="webhook", params={"url": "https://example.com/h"})
    changed = client.patch(f"/reminders/{reminder['id']}", json={"method": "log"}, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["method"], changed.get_json()["params"]) == ("log", {})
    same = client.patch(f"/reminders/{reminder['id']}", json={"method": "log", "params": {"level": "debug"}}, headers=admin)
    assert same.get_json()["params"] == {"level": "debug"}


def test_patch_moves_updated_at_and_rearms_a_completed_one_off(app, client, admin, make_reminder):
    from app.extensions import db
    from app.models import Reminder

    reminder = make_reminder()
    with app.app_context():
        db.session.get(Reminder, reminder["id"]).status = "completed"
        db.session.commit()
    changed = client.patch(f"/reminders/{reminder['id']}", json={"when": "2098-01-01T00:00:00Z"}, headers=admin).get_json()
    assert changed["status"] == "scheduled" and changed["next_run_at"] == "2098-01-01T00:00:00.000Z"
    assert parse(changed["updated_at"]) >= parse(reminder["updated_at"])
    assert changed["created_at"] == reminder["created_at"]


def test_patch_timezone_recomputes_next_run(client, admin, make_reminder):
    reminder = make_reminder(when=None, cron="0 8 * * *", timezone="UTC")
    changed = client.patch(f"/reminders/{reminder['id']}", json={"timezone": "Asia/Kolkata"}, headers=admin).get_json()
    next_run = parse(changed["next_run_at"])
    assert (next_run.hour, next_run.minute) == (2, 30)  # 08:00 IST


def test_patch_message_keeps_a_due_occurrence(client, admin, make_reminder, stored):
    reminder = make_reminder(when=None, every="PT1H")
    before = stored(reminder["id"]).next_run_at
    client.patch(f"/reminders/{reminder['id']}", json={"message": "edited"}, headers=admin)
    assert stored(reminder["id"]).next_run_at == before


@pytest.mark.parametrize("field", ["id", "status", "runs", "next_run_at", "owner", "created_at", "last_delivery",
                                   "idempotency_key"])
def test_patch_rejects_read_only_fields(client, admin, make_reminder, field):
    reminder = make_reminder()
    response = client.patch(f"/reminders/{reminder['id']}", json={field: 5}, headers=admin)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json() == reminder


def test_patch_bad_schedule_changes_nothing(client, admin, make_reminder):
    reminder = make_reminder()
    response = client.patch(f"/reminders/{reminder['id']}", json={"message": "x", "cron": "nope"}, headers=admin)
    assert response.status_code == 422 and "cron" in response.get_json()["fields"]
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json() == reminder


def test_delete_hides_and_stops_the_reminder(client, admin, make_reminder, stored):
    reminder = make_reminder(when="2020-01-01T00:00:00Z")  # due now: the scheduler would pick it up
    response = client.delete(f"/reminders/{reminder['id']}", headers=admin)
    assert response.status_code == 204 and response.get_data() == b""
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).status_code == 404
    assert client.delete(f"/reminders/{reminder['id']}", headers=admin).status_code == 404
    assert reminder["id"] not in [r["id"] for r in client.get("/reminders", headers=admin).get_json()]
    row = stored(reminder["id"])
    assert row.next_run_at is None and row.status == "cancelled"


def test_delete_drops_a_pending_trigger(client, admin, make_reminder):
    reminder = make_reminder()
    delivery = client.post(f"/reminders/{reminder['id']}/trigger", headers=admin).get_json()
    client.delete(f"/reminders/{reminder['id']}", headers=admin)
    statuses = {d["id"]: d["status"] for d in client.get("/deliveries", headers=admin).get_json()}
    assert statuses[delivery["id"]] != "pending"


def test_pause_and_resume(client, admin, make_reminder, stored):
    reminder = make_reminder(when="2020-01-01T00:00:00Z")
    paused = client.post(f"/reminders/{reminder['id']}/pause", headers=admin)
    assert paused.status_code == 200
    assert paused.get_json()["status"] == "paused" and paused.get_json()["next_run_at"] is None
    assert [r["id"] for r in client.get("/reminders?status=paused", headers=admin).get_json()] == [reminder["id"]]
    assert client.post(f"/reminders/{reminder['id']}/pause", headers=admin).status_code == 200  # idempotent
    resumed = client.post(f"/reminders/{reminder['id']}/resume", headers=admin).get_json()
    assert resumed["status"] == "scheduled"
    assert resumed["next_run_at"] == "2020-01-01T00:00:00.000Z"  # a past one-off is due at once


def test_paused_reminder_is_not_due(app, client, admin, make_reminder):
    from app.extensions import db
    from app.models import Reminder

    reminder = make_reminder(when="2020-01-01T00:00:00Z")
    client.post(f"/reminders/{reminder['id']}/pause", headers=admin)
    with app.app_context():
        due = db.session.scalars(db.select(Reminder.id).where(
            Reminder.status == "scheduled", Reminder.next_run_at <= datetime(2030, 1, 1))).all()
    assert due == []


def test_resume_recomputes_from_now(client, admin, make_reminder):
    reminder = make_reminder(when="2020-01-01T00:00:00Z", every="PT1H")
    client.post(f"/reminders/{reminder['id']}/pause", headers=admin)
    resumed = client.post(f"/reminders/{reminder['id']}/resume", headers=admin).get_json()
    next_run = parse(resumed["next_run_at"])
    now = datetime.now(timezone.utc)
    assert now - timedelta(seconds=5) <= next_run <= now + timedelta(hours=1)
    assert (next_run.minute, next_run.second) == (0, 0)  # still on the hourly grid of `when`


def test_resume_of_a_cancelled_or_unknown_reminder(client, admin, make_reminder):
    reminder = make_reminder()
    client.delete(f"/reminders/{reminder['id']}", headers=admin)
    assert client.post(f"/reminders/{reminder['id']}/resume", headers=admin).status_code == 404
    assert client.post("/reminders/4242/pause", headers=admin).status_code == 404


def test_trigger_queues_a_manual_delivery(client, admin, make_reminder):
    reminder = make_reminder()
    response = client.post(f"/reminders/{reminder['id']}/trigger", headers=admin)
    assert response.status_code == 202
    delivery = response.get_json()
    assert delivery["reminder_id"] == reminder["id"]
    assert (delivery["status"], delivery["attempt"], delivery["manual"]) == ("pending", 1, True)
    assert delivery["scheduled_for"].endswith("Z")
    assert [d["id"] for d in client.get(f"/reminders/{reminder['id']}/deliveries", headers=admin).get_json()] == [delivery["id"]]
    assert [d["id"] for d in client.get("/deliveries", headers=admin).get_json()] == [delivery["id"]]
    # The schedule is untouched.
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json()["next_run_at"] == reminder["next_run_at"]


@pytest.mark.parametrize("route", ["", "/pause", "/resume", "/trigger", "/deliveries", "/preview"])
def test_another_keys_reminder_does_not_exist(client, admin, other_key, make_reminder, route):
    reminder = make_reminder()
    method = client.post if route in ("/pause", "/resume", "/trigger") else client.get
    response = method(f"/reminders/{reminder['id']}{route}", headers=other_key)
    assert response.status_code == 404
    assert client.patch(f"/reminders/{reminder['id']}", json={"message": "x"}, headers=other_key).status_code == 404
    assert client.delete(f"/reminders/{reminder['id']}", headers=other_key).status_code == 404
    assert client.get("/reminders", headers=other_key).get_json() == []
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json()["message"] == reminder["message"]


def test_patching_back_a_masked_secret_keeps_the_stored_one(client, admin, make_reminder):
    created = make_reminder(method="webhook", params={"url": "http://127.0.0.1:9/hook", "secret": "whsec_c2VjcmV0c2VjcmV0"})
    assert created["params"]["secret"] == "***"
    edited = dict(created["params"], timeout=5)
    response = client.patch(f"/reminders/{created['id']}", json={"params": edited}, headers=admin)
    assert response.status_code == 200, response.get_json()
    from app.extensions import db
    from app.models import Reminder

    with client.application.app_context():
        stored = db.session.get(Reminder, created["id"]).params
    assert stored["secret"] == "whsec_c2VjcmV0c2VjcmV0"
    assert stored["timeout"] == 5
