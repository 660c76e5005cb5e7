"""Limits: per-key request rate, body size, message length, reminders per key, interval, page and batch size."""
import io
import re

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import ADMIN_KEY, make_config

WHEN = "2099-01-01T08:00:00Z"


@pytest.fixture
def limited(tmp_path, database_url):
    """An app built with some settings overridden, its schema created; returns its test client."""
    apps = []

    def build(**overrides):
        app = create_app(make_config(tmp_path, DATABASE_URL=database_url, **overrides))
        with app.app_context():
            db.create_all()
        apps.append(app)
        return app.test_client()

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def key_for(client, name):
    """A named key made with `flask keys create` on the client's app."""
    result = client.application.test_cli_runner().invoke(args=["keys", "create", name])
    assert result.exit_code == 0, result.output
    return {"X-API-Key": result.stdout.strip()}


def create(client, headers, expect=201, **body):
    payload = {"message": "Take the pills", "method": "log", "when": WHEN, **body}
    response = client.post("/reminders", json=payload, headers=headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


ADMIN = {"X-API-Key": ADMIN_KEY}


# --- request rate -----------------------------------------------------------------------------


def assert_429(response, limit="5 per minute"):
    assert response.status_code == 429
    assert response.is_json
    body = response.get_json()
    assert body["code"] == 429 and "Rate limit exceeded" in body["error"] and limit in body["error"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_a_key_over_its_rate_gets_429_json_with_retry_after(limited):
    client = limited(RATELIMIT_DEFAULT="5 per minute")
    for _ in range(5):
        response = client.get("/reminders", headers=ADMIN)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "5"
    assert_429(client.get("/reminders", headers=ADMIN))
    # Every route counts against the same bucket, a write too.
    assert_429(client.post("/reminders", json={"message": "x", "when": WHEN}, headers=ADMIN))


def test_each_key_has_its_own_bucket_whichever_header_carries_it(limited):
    client = limited(RATELIMIT_DEFAULT="5 per minute")
    alice, bob = key_for(client, "alice"), key_for(client, "bob")
    bearer = {"Authorization": f"Bearer {alice['X-API-Key']}"}
    for headers in (alice, bearer, alice, bearer, alice):
        assert client.get("/reminders", headers=headers).status_code == 200
    assert_429(client.get("/reminders", headers=bearer))
    assert_429(client.get("/reminders", headers=alice))
    assert client.get("/reminders", headers=bob).status_code == 200
    assert client.get("/reminders", headers=ADMIN).status_code == 200


def test_guessing_keys_is_rate_limited_by_address(limited):
    client = limited(RATELIMIT_DEFAULT="5 per minute")
    for attempt in range(5):
        assert client.get("/reminders", headers={"X-API-Key": f"tt_guess{attempt:040d}"}).status_code == 401
    assert_429(client.get("/reminders", headers={"X-API-Key": "tt_another-fresh-guess-0000000000000"}))
    assert_429(client.get("/reminders"))
    # A valid key is counted on its own, so an attacker next door cannot lock the owner out.
    assert client.get("/reminders", headers=ADMIN).status_code == 200


def test_healthz_is_never_rate_limited(limited):
    client = limited(RATELIMIT_DEFAULT="2 per minute")
    for _ in range(2):
        client.get("/openapi.json")
    assert client.get("/openapi.json").status_code == 429
    for _ in range(10):
        assert client.get("/healthz").status_code == 200


def test_rate_limiting_can_be_switched_off_and_on_again_per_app(limited):
    off = limited(RATELIMIT_DEFAULT="2 per minute", RATELIMIT_ENABLED=False)
    for _ in range(5):
        assert off.get("/reminders", headers=ADMIN).status_code == 200
    on = limited(RATELIMIT_DEFAULT="2 per minute")
    for _ in range(2):
        assert on.get("/reminders", headers=ADMIN).status_code == 200
    assert on.get("/reminders", headers=ADMIN).status_code == 429


def test_an_empty_limit_means_no_limit(limited):
    client = limited(RATELIMIT_DEFAULT="")
    for _ in range(10):
        assert client.get("/reminders", headers=ADMIN).status_code == 200


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"RATELIMIT_DEFAULT": "lots"}, "RATELIMIT_DEFAULT 'lots' is not a rate limit"),
        ({"RATELIMIT_STORAGE_URI": "nope://somewhere"}, "RATELIMIT_STORAGE_URI"),
    ],
)
def test_a_bad_rate_limit_setting_stops_the_start(tmp_path, overrides, reason):
    with pytest.raises(RuntimeError) as raised:
        create_app(make_config(tmp_path, **overrides))
    assert reason in str(raised.value)


def test_a_storage_uri_password_is_not_shown_when_it_is_refused(tmp_path):
    with pytest.raises(RuntimeError) as raised:
        create_app(make_config(tmp_path, RATELIMIT_STORAGE_URI="nope://user:hunter2-secret@cache:1"))
    assert "hunter2-secret" not in str(raised.value)


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_give_a_fresh_bucket(limited):
    client = limited(RATELIMIT_DEFAULT="3 per minute")
    for number in range(3):
        client.get("/reminders", headers={"X-Forwarded-For": f"203.0.113.{number}"})
    assert client.get("/reminders", headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429


def test_behind_a_trusted_proxy_clients_are_told_apart_and_urls_are_https(limited):
    client = limited(RATELIMIT_DEFAULT="3 per minute", TRUSTED_PROXIES=1)
    for _ in range(3):
        client.get("/reminders", headers={"X-Forwarded-For": "203.0.113.1"})
    assert client.get("/reminders", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert client.get("/reminders", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 401
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tifftock.example.org", "X-Forwarded-For": "203.0.113.3"}
    response = client.post("/reminders", json={"message": "x", "method": "log", "when": WHEN}, headers={**ADMIN, **forwarded})
    assert response.status_code == 201
    assert response.headers["Location"].startswith("https://tifftock.example.org/reminders/")


# --- body size ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("POST", "/reminders"), ("POST", "/reminders/batch"), ("POST", "/remind"),
                                          ("POST", "/reminders/preview"), ("PATCH", "/reminders/1")])
def test_a_body_over_max_body_bytes_gets_413_json(limited, method, path):
    client = limited(MAX_CONTENT_LENGTH=2048)
    create(client, ADMIN)
    response = client.open(path, method=method, json={"message": "x" * 4096, "when": WHEN}, headers=ADMIN)
    assert response.status_code == 413
    assert response.is_json and response.get_json()["code"] == 413
    assert response.get_json()["error"]


def test_a_chunked_body_over_the_limit_is_refused(limited):
    """No Content-Length to refuse up front: werkzeug reads at most MAX_BODY_BYTES, so the cut body is malformed."""
    client = limited(MAX_CONTENT_LENGTH=2048)
    body = b'{"message": "' + b"x" * 4096 + b'", "when": "2099-01-01T08:00:00Z"}'
    response = client.post(
        "/reminders",
        input_stream=io.BytesIO(body),
        headers={**ADMIN, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        # What gunicorn sets for a chunked request body.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code in (400, 413) and response.is_json
    assert client.get("/reminders", headers=ADMIN).get_json() == []


def test_a_body_under_max_body_bytes_is_accepted(limited):
    client = limited(MAX_CONTENT_LENGTH=2048)
    create(client, ADMIN, message="x" * 1500)


# --- message length ----------------------------------------------------------------------------


def test_message_length_is_capped_on_create_patch_batch_and_preview(limited):
    client = limited(MAX_MESSAGE_LENGTH=20)
    made = create(client, ADMIN, message="x" * 20)
    too_long = "x" * 21
    response = client.post("/reminders", json={"message": too_long, "method": "log", "when": WHEN}, headers=ADMIN)
    assert response.status_code == 422 and "message" in response.get_json()["fields"]
    response = client.patch(f"/reminders/{made['id']}", json={"message": too_long}, headers=ADMIN)
    assert response.status_code == 422 and "message" in response.get_json()["fields"]
    response = client.post("/reminders/batch", json={"reminders": [{"message": too_long, "when": WHEN}]}, headers=ADMIN)
    assert response.status_code == 422 and "message" in response.get_json()["fields"]["reminders"]["0"]
    response = client.post("/reminders/preview", json={"message": too_long, "when": WHEN}, headers=ADMIN)
    assert response.status_code == 422
    assert client.get(f"/reminders/{made['id']}", headers=ADMIN).get_json()["message"] == "x" * 20


def test_message_length_is_capped_on_the_tifftock_1_route(limited):
    client = limited(MAX_MESSAGE_LENGTH=20)
    response = client.post("/remind", json={"message": "x" * 21, "when": WHEN}, headers=ADMIN)
    assert response.status_code == 422 and "message" in response.get_json()["fields"]


# --- reminders per key -------------------------------------------------------------------------


def assert_quota(response):
    assert response.status_code == 403 and response.is_json
    assert "quota" in response.get_json()["error"].lower()


def test_reminders_per_key_are_capped_per_key(limited):
    client = limited(MAX_REMINDERS_PER_KEY=2)
    alice, bob = key_for(client, "alice"), key_for(client, "bob")
    first = create(client, alice)
    paused = create(client, alice, every="PT1H")
    client.post(f"/reminders/{paused['id']}/pause", headers=alice)
    assert_quota(client.post("/reminders", json={"message": "x", "when": WHEN}, headers=alice))
    assert_quota(client.post("/remind", json={"message": "x", "when": WHEN}, headers=alice))
    assert_quota(client.post("/reminders/batch", json={"reminders": [{"message": "x", "when": WHEN}]}, headers=alice))
    # Another key has its own quota.
    create(client, bob)
    create(client, bob)
    # Deleting one frees a place.
    assert client.delete(f"/reminders/{first['id']}", headers=alice).status_code == 204
    create(client, alice)
    assert len(client.get("/reminders", headers=alice).get_json()) == 2


def test_a_batch_over_the_quota_creates_nothing(limited):
    client = limited(MAX_REMINDERS_PER_KEY=3)
    create(client, ADMIN)
    batch = {"reminders": [{"message": f"m{i}", "when": WHEN} for i in range(3)]}
    assert_quota(client.post("/reminders/batch", json=batch, headers=ADMIN))
    assert len(client.get("/reminders", headers=ADMIN).get_json()) == 1


# --- minimum interval --------------------------------------------------------------------------


def test_every_below_the_default_minimum_of_60_seconds_is_refused(limited):
    client = limited()
    for every in ("PT59S", "PT1S", "PT0S", "PT0.5S"):
        response = client.post("/reminders", json={"message": "x", "every": every}, headers=ADMIN)
        assert response.status_code == 422, every
        assert "every" in response.get_json()["fields"]
    create(client, ADMIN, every="PT60S")


def test_the_minimum_interval_is_configurable_and_holds_on_patch(limited):
    client = limited(MIN_INTERVAL_SECONDS=300)
    response = client.post("/reminders", json={"message": "x", "every": "PT4M59S"}, headers=ADMIN)
    assert response.status_code == 422 and "300" in response.get_json()["error"]
    made = create(client, ADMIN, every="PT5M", when=None)
    response = client.patch(f"/reminders/{made['id']}", json={"every": "PT1M"}, headers=ADMIN)
    assert response.status_code == 422
    assert client.get(f"/reminders/{made['id']}", headers=ADMIN).get_json()["every"] == made["every"]


@pytest.mark.parametrize("body", [{"rrule": "FREQ=SECONDLY"}, {"rrule": "FREQ=MINUTELY;BYSECOND=0,10,20,30,40,50"},
                                  {"cron": "* * * * *"}])
def test_rrule_and_cron_cannot_fire_more_often_than_the_minimum_interval(limited, body):
    client = limited(MIN_INTERVAL_SECONDS=300)
    response = client.post("/reminders", json={"message": "x", **body}, headers=ADMIN)
    assert response.status_code == 422, response.get_json()


# --- page and batch size -----------------------------------------------------------------------


def test_page_size_is_capped_and_the_rest_is_behind_a_link(limited):
    client = limited(MAX_PAGE_SIZE=3)
    made = create(client, ADMIN)
    for _ in range(4):
        create(client, ADMIN)
        assert client.post(f"/reminders/{made['id']}/trigger", headers=ADMIN).status_code == 202
    for path in ("/reminders", "/deliveries", f"/reminders/{made['id']}/deliveries"):
        response = client.get(f"{path}?limit=100000", headers=ADMIN)
        assert response.status_code == 200
        assert len(response.get_json()) == 3, path
        assert re.search(r'rel="next"', response.headers["Link"])


def test_batch_size_is_capped_and_an_oversized_batch_creates_nothing(limited):
    client = limited(MAX_BATCH=3)
    batch = {"reminders": [{"message": f"m{i}", "when": WHEN} for i in range(4)]}
    response = client.post("/reminders/batch", json=batch, headers=ADMIN)
    assert response.status_code == 422 and "reminders" in response.get_json()["fields"]
    assert client.get("/reminders", headers=ADMIN).get_json() == []
    batch["reminders"].pop()
    assert client.post("/reminders/batch", json=batch, headers=ADMIN).status_code == 201


# --- JSON nesting ------------------------------------------------------------------------------


def nested(depth, leaf='"x"'):
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize("path", ["/reminders", "/reminders/batch", "/remind", "/reminders/preview"])
@pytest.mark.parametrize("body", [
    nested(100_000),
    '{"message": "x", "when": "2099-01-01T08:00:00Z", "params": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
    '{"message": "x", "when": "2099-01-01T08:00:00Z", "tags": ' + nested(33) + "}",
], ids=["array-100000", "params-object-50000", "tags-33"])
def test_a_body_nested_too_deeply_gets_400_json_not_a_crash(limited, path, body):
    client = limited()
    response = client.post(path, data=body, headers={**ADMIN, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.is_json
    assert "nested deeper than 32 levels" in response.get_json()["error"]


def test_nesting_up_to_max_json_depth_is_parsed_as_usual(limited):
    client = limited(MAX_JSON_DEPTH=5)  # body, params, body, a, {b}
    fine = {"message": "x", "method": "webhook", "when": WHEN,
            "params": {"url": "https://example.com/h", "body": {"a": ["[[[[[[", {"b": 1}]}}}
    assert client.post("/reminders", json=fine, headers=ADMIN).status_code == 201
    fine["params"]["body"]["a"][1]["b"] = [1]
    assert client.post("/reminders", json=fine, headers=ADMIN).status_code == 400


def test_without_a_valid_key_a_deep_body_still_gets_401(limited):
    client = limited()
    response = client.post("/reminders", data=nested(10_000), headers={"Content-Type": "application/json"})
    assert response.status_code == 401
