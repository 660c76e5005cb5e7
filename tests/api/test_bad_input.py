"""Bad input: each gets a clear JSON 4xx naming what is wrong, and nothing is written."""
import pytest

from app.models import Delivery, Reminder

OK = {"message": "Take the pills", "method": "log", "when": "2099-01-01T08:00:00Z"}


def body(**changes):
    """A valid create body with some fields changed (None removes one)."""
    data = {**OK, **changes}
    return {key: value for key, value in data.items() if value is not None}


# (request body, HTTP status, field names the error must name)
BAD_BODIES = [
    pytest.param(body(message=5), 422, {"message"}, id="message-not-a-string"),
    pytest.param(body(message=""), 422, {"message"}, id="message-empty"),
    pytest.param(body(message=None), 422, {"message"}, id="message-missing"),
    pytest.param(body(when=20990101), 422, {"when"}, id="when-number"),
    pytest.param(body(when="next tuesday"), 422, {"when"}, id="when-not-iso"),
    pytest.param(body(when="2099-02-30T08:00:00"), 422, {"when"}, id="when-impossible-date"),
    pytest.param(body(tags="family"), 422, {"tags"}, id="tags-not-a-list"),
    pytest.param(body(tags=[""]), 422, {"tags"}, id="tag-empty"),
    pytest.param(body(tags=["a,b"]), 422, {"tags"}, id="tag-with-comma"),
    pytest.param(body(params="to=me"), 422, {"params"}, id="params-not-an-object"),
    pytest.param(body(max_runs="ten"), 422, {"max_runs"}, id="max-runs-not-int"),
    pytest.param(body(max_runs=0), 422, {"max_runs"}, id="max-runs-zero"),
    pytest.param(body(colour="red"), 422, {"colour"}, id="unknown-field"),
    pytest.param(body(id=3), 422, {"id"}, id="read-only-id"),
    pytest.param(body(status="paused"), 422, {"status"}, id="read-only-status"),
    pytest.param(body(method="pigeon"), 422, {"method"}, id="unknown-method"),
    pytest.param(body(method="log", params={"level": "loud"}), 422, {"params"}, id="params-fail-process-schema"),
    pytest.param(body(method="webhook", params={}), 422, {"params"}, id="webhook-without-url"),
    pytest.param(body(method="log", params={"nope": 1}), 422, {"params"}, id="params-unknown-key"),
    pytest.param(body(timezone="Mars/Olympus"), 422, {"timezone"}, id="unknown-timezone"),
    pytest.param(body(timezone="../../etc/passwd"), 422, {"timezone"}, id="path-timezone"),
    pytest.param(body(when=None, cron="61 * * * *"), 422, {"cron"}, id="cron-minute-61"),
    pytest.param(body(when=None, cron="0 8 * *"), 422, {"cron"}, id="cron-four-fields"),
    pytest.param(body(when=None, cron="0 8 30 2 *"), 422, {"cron"}, id="cron-never-matches"),
    pytest.param(body(when=None, rrule="FREQ=SOMETIMES"), 422, {"rrule"}, id="rrule-bad-freq"),
    pytest.param(body(when=None, rrule="FREQ=DAILY;BYHOUR=25"), 422, {"rrule"}, id="rrule-bad-hour"),
    pytest.param(body(when=None, rrule="DTSTART:20990101T000000\nRRULE:FREQ=DAILY"), 422, {"rrule"}, id="rrule-dtstart"),
    pytest.param(body(when=None, rrule="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"), 422, {"rrule"}, id="rrule-never-matches"),
    pytest.param(body(when=None, rrule="FREQ=SECONDLY"), 422, {"rrule"}, id="rrule-every-second"),
    pytest.param(body(when=None, rrule="FREQ=HOURLY;BYSECOND=0,1"), 422, {"rrule"}, id="rrule-seconds-apart"),
    pytest.param(body(when="9999-12-31T23:59:00", timezone="America/New_York"), 422, {"when"}, id="when-past-year-9999"),
    pytest.param(body(message="a\x00b"), 422, {"message"}, id="message-with-nul"),
    pytest.param(body(tags=["a\x00"]), 422, {"tags"}, id="tag-with-nul"),
    pytest.param(body(idempotency_key="k\x00"), 422, {"idempotency_key"}, id="idempotency-key-with-nul"),
    pytest.param(body(max_runs=2**40), 422, {"max_runs"}, id="max-runs-beyond-integer"),
    pytest.param(body(until="2098-01-01T00:00:00Z", every="PT1H"), 422, {"until"}, id="until-before-when"),
    pytest.param(body(until="soon", every="PT1H"), 422, {"until"}, id="until-not-iso"),
    pytest.param(body(when=None, every="PT1H", cron="0 8 * * *"), 422, {"every", "cron"}, id="every-and-cron"),
    pytest.param(body(when=None, cron="0 8 * * *", rrule="FREQ=DAILY"), 422, {"cron", "rrule"}, id="cron-and-rrule"),
    pytest.param(body(when=None), 422, {"when"}, id="no-schedule"),
    pytest.param(body(when=None, every="PT15X"), 422, {"every"}, id="every-not-a-duration"),
    pytest.param(body(when=None, every="P1M"), 422, {"every"}, id="every-in-months"),
    pytest.param(body(when=None, every="PT30S"), 422, {"every"}, id="every-below-minimum"),
    pytest.param(body(when=None, every="PT0S"), 422, {"every"}, id="every-zero"),
    pytest.param(body(misfire_grace="an hour"), 422, {"misfire_grace"}, id="misfire-grace-not-a-duration"),
    pytest.param(body(retry={"backoff": "30s"}), 422, {"retry"}, id="retry-backoff-bad"),
    pytest.param(body(retry={"max_age": "P1Y"}), 422, {"retry"}, id="retry-max-age-years"),
    pytest.param(body(retry={"max_attempts": 0}), 422, {"retry"}, id="retry-zero-attempts"),
    pytest.param(body(retry={"tries": 3}), 422, {"retry"}, id="retry-unknown-key"),
    pytest.param(body(window={"start": "25:00", "end": "07:00"}), 422, {"window"}, id="window-bad-hour"),
    pytest.param(body(window={"start": "8am", "end": "07:00"}), 422, {"window"}, id="window-not-a-clock"),
    pytest.param(body(window={"start": "08:00"}), 422, {"window"}, id="window-without-end"),
    pytest.param(body(window={"start": "08:00", "end": "21:00", "outside": "drop"}), 422, {"window"}, id="window-bad-policy"),
    pytest.param(body(idempotency_key=""), 422, {"idempotency_key"}, id="idempotency-key-empty"),
    pytest.param([OK], 422, {"_schema"}, id="array-body"),
    pytest.param("just a string", 422, {"_schema"}, id="string-body"),
]


@pytest.mark.parametrize("payload, status, fields", BAD_BODIES)
def test_bad_create_is_rejected_and_writes_nothing(client, admin, count_rows, payload, status, fields):
    response = client.post("/reminders", json=payload, headers=admin)
    assert response.status_code == status
    error = response.get_json()
    assert error["code"] == status and isinstance(error["error"], str) and error["error"]
    assert fields <= set(error["fields"]), error
    for name in fields - {"_schema"}:
        assert name in error["error"]  # the readable message names the field too
    assert count_rows(Reminder) == 0
    assert client.get("/reminders", headers=admin).get_json() == []


@pytest.mark.parametrize("payload, status, fields", BAD_BODIES)
def test_bad_preview_body_is_rejected_like_create(client, admin, count_rows, payload, status, fields):
    response = client.post("/reminders/preview", json=payload, headers=admin)
    assert response.status_code == status
    assert fields <= set(response.get_json()["fields"])
    assert count_rows(Reminder) == 0


@pytest.mark.parametrize("payload, status, fields", BAD_BODIES)
def test_bad_patch_changes_nothing(client, admin, make_reminder, payload, status, fields):
    if isinstance(payload, dict) and not fields & set(payload):
        pytest.skip("a PATCH may leave fields out")
    reminder = make_reminder()
    response = client.patch(f"/reminders/{reminder['id']}", json=payload, headers=admin)
    assert response.status_code == status
    assert fields <= set(response.get_json()["fields"])
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json() == reminder


@pytest.mark.parametrize(
    "path, method",
    [("/reminders", "post"), ("/reminders/batch", "post"), ("/reminders/preview", "post"), ("/reminders/1", "patch"),
     ("/remind", "post")],
)
@pytest.mark.parametrize("raw", ['{"message": "x",', "not json", '{"message": "x"}}', "\xff\xfe"])
def test_malformed_json_is_400(client, admin, make_reminder, count_rows, path, method, raw):
    reminder = make_reminder()
    response = getattr(client, method)(path, data=raw, headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.is_json and "JSON" in response.get_json()["error"]
    assert count_rows(Reminder) == 1
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json() == reminder


def test_message_over_the_limit(client, admin, count_rows, app):
    limit = app.config["MAX_MESSAGE_LENGTH"]
    assert client.post("/reminders", json=body(message="x" * limit), headers=admin).status_code == 201
    response = client.post("/reminders", json=body(message="x" * (limit + 1)), headers=admin)
    assert response.status_code == 422
    assert "message" in response.get_json()["fields"] and str(limit) in response.get_json()["error"]
    assert count_rows(Reminder) == 1


@pytest.fixture
def small_body_app(tmp_path, database_url):
    """An app whose request bodies may be at most 2 KiB."""
    from app import create_app
    from app.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, DATABASE_URL=database_url, MAX_CONTENT_LENGTH=2048))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/reminders", "/reminders/batch", "/reminders/preview", "/remind"])
def test_body_over_the_size_limit_is_413_json(small_body_app, admin, path):
    client = small_body_app.test_client()
    response = client.post(path, json=body(message="x" * 4096), headers=admin)
    assert response.status_code == 413
    assert response.is_json and response.get_json()["code"] == 413
    assert "2048" in response.get_json()["error"] or "large" in response.get_json()["error"].lower()
    assert client.get("/reminders", headers=admin).get_json() == []


@pytest.mark.parametrize("path", ["/reminders/abc", "/reminders/1.5", "/reminders/-1", "/reminders/abc/preview",
                                  "/reminder/abc", "/reminders/99999999999999999999999"])
def test_non_integer_or_unknown_id_is_404_json(client, admin, path):
    response = client.get(path, headers=admin)
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]


@pytest.mark.parametrize("path", ["/reminders/abc", "/reminders/abc/trigger"])
def test_non_integer_id_on_writes_is_404_json(client, admin, count_rows, path):
    response = client.post(path, json={}, headers=admin)
    assert response.status_code in (404, 405) and response.is_json
    assert count_rows(Delivery) == 0


def test_batch_over_the_limit(client, admin, count_rows, app):
    limit = app.config["MAX_BATCH"]
    items = [body(message=f"m{i}") for i in range(limit + 1)]
    response = client.post("/reminders/batch", json={"reminders": items}, headers=admin)
    assert response.status_code == 422
    assert "reminders" in response.get_json()["fields"] and str(limit) in response.get_json()["error"]
    assert count_rows(Reminder) == 0


@pytest.mark.parametrize("payload", [{}, {"reminders": []}, {"reminders": "x"}, {"reminders": [OK], "extra": 1}])
def test_bad_batch_envelope(client, admin, count_rows, payload):
    response = client.post("/reminders/batch", json=payload, headers=admin)
    assert response.status_code == 422 and response.get_json()["fields"]
    assert count_rows(Reminder) == 0


def test_bad_trigger_does_not_write(client, admin, count_rows):
    assert client.post("/reminders/77/trigger", headers=admin).status_code == 404
    assert count_rows(Delivery) == 0


@pytest.mark.parametrize("query", ["n=0", "n=101", "n=ten"])
def test_bad_preview_count(client, admin, make_reminder, query):
    reminder = make_reminder()
    for response in (client.get(f"/reminders/{reminder['id']}/preview?{query}", headers=admin),
                     client.post(f"/reminders/preview?{query}", json=OK, headers=admin)):
        assert response.status_code == 422 and "n" in response.get_json()["fields"]


@pytest.mark.parametrize("path", ["/reminders", "/reminders/batch", "/reminders/preview", "/remind"])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_body_not_sent_as_json_is_415(client, admin, count_rows, path, content_type):
    headers = {**admin, "Content-Type": content_type} if content_type else admin
    response = client.post(path, data='{"message": "m", "when": "2099-01-01T00:00:00Z"}', headers=headers)
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.get_json()["error"]
    assert count_rows(Reminder) == 0


def test_an_unusable_idempotency_key_header(client, admin, count_rows):
    response = client.post("/reminders", json=OK, headers={**admin, "Idempotency-Key": "k" * 256})
    assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["fields"]
    assert count_rows(Reminder) == 0


@pytest.mark.parametrize("query, field", [("tag=a%00", "tag"), ("method=log%00", "method")])
def test_nul_in_a_query_is_422(client, admin, query, field):
    response = client.get(f"/reminders?{query}", headers=admin)
    assert response.status_code == 422 and field in response.get_json()["fields"]


@pytest.mark.parametrize(
    "schedule",
    [{"when": "2027-01-01T00:00:00Z", "every": "P3000000D"}, {"when": "9999-12-31T23:00:00Z", "every": "PT1H"},
     {"when": "9999-12-31T23:00:00Z", "cron": "0 * * * *", "timezone": "America/New_York"},
     {"when": "9999-12-31T20:00:00Z", "cron": "0 * * * *", "window": {"start": "22:00", "end": "21:00"}}],
    ids=["interval-past-9999", "hourly-at-the-end-of-time", "cron-at-the-end-of-time", "window-at-the-end-of-time"],
)
def test_schedules_near_year_9999_end_instead_of_crashing(client, admin, make_reminder, schedule):
    response = client.post("/reminders/preview?n=5", json={**OK, **schedule}, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert 1 <= len(response.get_json()["occurrences"]) < 5
    reminder = make_reminder(**schedule)
    assert client.get(f"/reminders/{reminder['id']}/preview?n=5", headers=admin).status_code == 200


def test_cron_faster_than_the_minimum_interval(tmp_path, database_url):
    from app import create_app
    from app.extensions import db
    from tests.conftest import ADMIN_KEY, make_config

    app = create_app(make_config(tmp_path, DATABASE_URL=database_url, MIN_INTERVAL_SECONDS=300))
    with app.app_context():
        db.create_all()
    client, headers = app.test_client(), {"X-API-Key": ADMIN_KEY}
    for cron, status in (("* * * * *", 422), ("0,1 8 * * *", 422), ("*/5 * * * *", 201)):
        response = client.post("/reminders", json={**OK, "when": None, "cron": cron}, headers=headers)
        assert response.status_code == status, (cron, response.get_json())
    assert "cron" in client.post("/reminders", json={**OK, "cron": "* * * * *"}, headers=headers).get_json()["fields"]
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
