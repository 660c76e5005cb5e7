"""TiffTock 1 clients: POST /remind, GET and DELETE /reminder/<id> with a lowercase x-api-key."""
import pytest

from app.models import Reminder
from tests.conftest import ADMIN_KEY

V1 = {"x-api-key": ADMIN_KEY}


def test_remind_creates_a_one_off(client, admin):
    response = client.post("/remind", json={"when": "2030-01-01T08:00:00", "message": "Call mum", "method": "log"},
                           headers=V1)
    assert response.status_code == 201
    assert set(response.get_json()) == {"id"}
    reminder_id = response.get_json()["id"]
    reminder = client.get(f"/reminders/{reminder_id}", headers=admin).get_json()
    assert (reminder["message"], reminder["method"], reminder["when"]) == ("Call mum", "log", "2030-01-01T08:00:00.000Z")
    assert reminder["next_run_at"] == "2030-01-01T08:00:00.000Z"


def test_remind_without_method_uses_the_default(client, admin):
    response = client.post("/remind", json={"when": "2030-01-01T08:00:00Z", "message": "m"}, headers=V1)
    assert response.status_code == 201
    assert client.get(f"/reminder/{response.get_json()['id']}", headers=V1).get_json()["method"] == "log"


def test_remind_api_method_takes_the_url_from_settings(tmp_path, database_url):
    from app import create_app
    from app.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, DATABASE_URL=database_url, API_REMIND_URL="https://example.com/remind"))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    response = client.post("/remind", json={"when": "2030-01-01T08:00:00Z", "message": "m", "method": "api"}, headers=V1)
    assert response.status_code == 201, response.get_json()
    assert client.get(f"/reminder/{response.get_json()['id']}", headers=V1).get_json()["method"] == "webhook"
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def test_reminder_v1_get_and_delete(client, make_reminder):
    made = make_reminder(when="2030-01-01T08:00:00Z")
    got = client.get(f"/reminder/{made['id']}", headers=V1)
    assert got.status_code == 200
    assert got.get_json()["when"] == "2030-01-01T08:00:00.000Z" and got.get_json()["message"] == made["message"]
    deleted = client.delete(f"/reminder/{made['id']}", headers=V1)
    assert deleted.status_code == 204
    assert client.get(f"/reminder/{made['id']}", headers=V1).status_code == 404
    assert client.get(f"/reminders/{made['id']}", headers=V1).status_code == 404


def test_every_reminder_object_carries_when(client, admin, make_reminder):
    make_reminder(when=None, cron="0 8 * * *")
    make_reminder(when=None, every="PT1H")
    for reminder in client.get("/reminders", headers=admin).get_json():
        assert "when" in reminder
        assert "when" in client.get(f"/reminder/{reminder['id']}", headers=V1).get_json()
        if reminder["every"]:
            assert reminder["when"].endswith("Z")  # the interval's anchor, fixed at creation


@pytest.mark.parametrize(
    "payload, field",
    [({"message": "m", "method": "log"}, "when"), ({"when": "2030-01-01T00:00:00Z", "method": "log"}, "message"),
     ({"when": "tomorrow", "message": "m"}, "when"), ({"when": "2030-01-01T00:00:00Z", "message": "m", "method": "fax"}, "method"),
     ({"when": "2030-01-01T00:00:00Z", "message": "m", "cron": "0 8 * * *"}, "cron")],
)
def test_remind_bad_input(client, count_rows, payload, field):
    response = client.post("/remind", json=payload, headers=V1)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert count_rows(Reminder) == 0


def test_remind_needs_a_key(client, count_rows):
    response = client.post("/remind", json={"when": "2030-01-01T00:00:00Z", "message": "m"})
    assert response.status_code == 401 and response.is_json
    assert count_rows(Reminder) == 0


def test_remind_caps_the_message_length(client, app, count_rows):
    limit = app.config["MAX_MESSAGE_LENGTH"]
    response = client.post("/remind", json={"when": "2030-01-01T00:00:00Z", "message": "x" * (limit + 1)}, headers=V1)
    assert response.status_code == 422 and "message" in response.get_json()["fields"]
    assert count_rows(Reminder) == 0


@pytest.mark.parametrize(
    "method, setting, value",
    [("sms", "TWILIO_PHONE_NUMBER_TO", "+15551234567"), ("email", "EMAIL_TO", "me@example.com"),
     ("api", "API_REMIND_URL", "https://example.com/remind")],
)
def test_missing_params_come_from_settings(tmp_path, database_url, method, setting, value):
    from app import create_app
    from app.extensions import db
    from tests.conftest import make_config

    body = {"when": "2030-01-01T08:00:00Z", "message": "m", "method": method}
    for settings, status in (({}, 422), ({setting: value}, 201)):
        app = create_app(make_config(tmp_path, DATABASE_URL=database_url, **settings))
        with app.app_context():
            db.create_all()
        response = app.test_client().post("/remind", json=body, headers=V1)
        assert response.status_code == status, response.get_json()
        if status == 422:
            assert "params" in response.get_json()["fields"]
        with app.app_context():
            db.drop_all()
            db.engine.dispose()
