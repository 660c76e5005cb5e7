"""API keys: every protected route answers 401 JSON without a valid key; both header forms work."""
import pytest

from tests.conftest import ADMIN_KEY

PROTECTED = [
    ("post", "/reminders"),
    ("get", "/reminders"),
    ("post", "/reminders/batch"),
    ("post", "/reminders/preview"),
    ("get", "/reminders/1"),
    ("patch", "/reminders/1"),
    ("delete", "/reminders/1"),
    ("post", "/reminders/1/pause"),
    ("post", "/reminders/1/resume"),
    ("post", "/reminders/1/trigger"),
    ("get", "/reminders/1/deliveries"),
    ("get", "/reminders/1/preview"),
    ("get", "/deliveries"),
    ("get", "/processes"),
    ("post", "/remind"),
    ("get", "/reminder/1"),
    ("delete", "/reminder/1"),
]
BAD_HEADERS = [
    pytest.param({}, id="missing"),
    pytest.param({"X-API-Key": "wrong-key-0123456789abcdef"}, id="wrong"),
    pytest.param({"X-API-Key": ""}, id="empty"),
    pytest.param({"X-API-Key": ADMIN_KEY[:-1]}, id="prefix-of-the-key"),
    pytest.param({"Authorization": f"Basic {ADMIN_KEY}"}, id="basic-scheme"),
    pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
    pytest.param({"Authorization": "Bearer tt_not-a-real-key"}, id="unknown-named-key"),
]


def assert_refused(client, method, path, headers):
    """The request gets a 401 JSON body that says what is wrong with the key."""
    response = getattr(client, method)(path, json={"message": "x", "when": "2099-01-01T00:00:00Z"}, headers=headers)
    assert response.status_code == 401
    assert response.is_json and "API key" in response.get_json()["error"]
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("method, path", PROTECTED)
def test_every_protected_route_refuses_a_missing_or_wrong_key(client, admin, make_reminder, count_rows, method, path):
    reminder = make_reminder()
    for headers in ({}, {"X-API-Key": "wrong-key-0123456789abcdef"}, {"Authorization": "Bearer wrong-key-0123456789"}):
        assert_refused(client, method, path, headers)
    assert count_rows() == 1
    assert client.get(f"/reminders/{reminder['id']}", headers=admin).get_json() == reminder


@pytest.mark.parametrize("headers", BAD_HEADERS)
def test_bad_key_forms_are_refused(client, count_rows, headers):
    assert_refused(client, "post", "/reminders", headers)
    assert count_rows() == 0


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-API-Key": ADMIN_KEY}, id="x-api-key"),
        pytest.param({"x-api-key": ADMIN_KEY}, id="lowercase-x-api-key"),
        pytest.param({"Authorization": f"Bearer {ADMIN_KEY}"}, id="bearer"),
        pytest.param({"Authorization": f"bearer {ADMIN_KEY}"}, id="lowercase-bearer"),
    ],
)
def test_key_forms_that_work(client, headers):
    created = client.post("/reminders", json={"message": "m", "when": "2099-01-01T00:00:00Z"}, headers=headers)
    assert created.status_code == 201
    assert client.get("/reminders", headers=headers).status_code == 200


def test_a_named_key_works_until_revoked(client, runner, other_key):
    assert client.get("/reminders", headers=other_key).status_code == 200
    assert runner.invoke(args=["keys", "revoke", "bob"]).exit_code == 0
    assert client.get("/reminders", headers=other_key).status_code == 401


@pytest.mark.parametrize("path", ["/healthz", "/docs", "/openapi.json"])
def test_public_routes_need_no_key(client, path):
    assert client.get(path).status_code == 200
