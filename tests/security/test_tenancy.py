"""Tenancy: a named key sees and changes only its own reminders and deliveries; nobody sets read-only fields."""
import re

import pytest

from app.extensions import db
from app.models import Delivery, Reminder

ABSENT_ID = 987654
WHEN = "2099-01-01T08:00:00Z"

# Every route that takes a reminder id, with a body that would change something if it were allowed.
FOREIGN_CALLS = [
    ("GET", "/reminders/{id}", None),
    ("PATCH", "/reminders/{id}", {"message": "hijacked", "params": {"level": "warning"}}),
    ("DELETE", "/reminders/{id}", None),
    ("POST", "/reminders/{id}/pause", None),
    ("POST", "/reminders/{id}/resume", None),
    ("POST", "/reminders/{id}/trigger", None),
    ("GET", "/reminders/{id}/deliveries", None),
    ("GET", "/reminders/{id}/preview", None),
    ("GET", "/reminder/{id}", None),
    ("DELETE", "/reminder/{id}", None),
]

READ_ONLY = {
    "id": 1,
    "owner": "bob",
    "status": "completed",
    "runs": 99,
    "next_run_at": "2030-01-01T00:00:00Z",
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "last_delivery": None,
    "deleted_at": "2020-01-01T00:00:00Z",
    "finished_at": "2020-01-01T00:00:00Z",
    "lease_token": "x",
    "attempt": 3,
    "kind": "once",
}


@pytest.fixture
def alice_world(client, two_keys, make_reminder):
    """Alice's reminder (tagged, with a delivery from a trigger) and a paused one; bob's own reminder."""
    alice, bob = two_keys
    mine = make_reminder(headers=alice, message="alice's secret", tags=["home"], params={"level": "info"})
    paused = make_reminder(headers=alice, message="alice's paused", every="PT1H")
    assert client.post(f"/reminders/{paused['id']}/pause", headers=alice).status_code == 200
    assert client.post(f"/reminders/{mine['id']}/trigger", headers=alice).status_code == 202
    theirs = make_reminder(headers=bob, message="bob's", tags=["home"])
    return {"alice": alice, "bob": bob, "mine": mine, "paused": paused, "theirs": theirs}


def snapshot(app, client, admin, reminder_ids):
    """Everything the admin can see about some reminders, and the raw row counts."""
    seen = {}
    for reminder_id in reminder_ids:
        seen[reminder_id] = (
            client.get(f"/reminders/{reminder_id}", headers=admin).get_json(),
            client.get(f"/reminders/{reminder_id}/deliveries", headers=admin).get_json(),
        )
    with app.app_context():
        counts = (
            db.session.scalar(db.select(db.func.count()).select_from(Reminder)),
            db.session.scalar(db.select(db.func.count()).select_from(Delivery)),
        )
    return seen, counts


def call(client, method, path, body, headers):
    return client.open(path, method=method, json=body, headers=headers)


def test_the_foreign_calls_cover_every_route_with_a_reminder_id(app):
    covered = {(method, path.replace("{id}", "<int:reminder_id>")) for method, path, _ in FOREIGN_CALLS}
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if "reminder_id" in rule.arguments
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == covered


@pytest.mark.parametrize("method, path, body", FOREIGN_CALLS, ids=[f"{m} {p}" for m, p, _ in FOREIGN_CALLS])
def test_another_keys_reminder_answers_404_as_if_absent_and_nothing_changes(app, client, admin, alice_world, method, path, body):
    bob = alice_world["bob"]
    targets = [alice_world["mine"]["id"], alice_world["paused"]["id"]]
    before = snapshot(app, client, admin, targets)
    absent = call(client, method, path.format(id=ABSENT_ID), body, bob)
    assert absent.status_code == 404
    for reminder_id in targets:
        response = call(client, method, path.format(id=reminder_id), body, bob)
        assert response.status_code == 404, response.get_json()
        assert response.is_json
        # Indistinguishable from an id that does not exist.
        assert response.get_json() == {
            key: value.replace(str(ABSENT_ID), str(reminder_id)) if isinstance(value, str) else value
            for key, value in absent.get_json().items()
        }
        assert "alice" not in response.get_data(as_text=True)
    assert snapshot(app, client, admin, targets) == before


@pytest.mark.parametrize("method, path, body", FOREIGN_CALLS, ids=[f"{m} {p}" for m, p, _ in FOREIGN_CALLS])
def test_the_owner_can_make_the_same_calls(client, alice_world, method, path, body):
    alice = alice_world["alice"]
    reminder_id = alice_world["paused"]["id"] if path.endswith("resume") else alice_world["mine"]["id"]
    response = call(client, method, path.format(id=reminder_id), body, alice)
    assert response.status_code < 300, response.get_json()


def test_lists_hold_only_the_callers_reminders(client, alice_world):
    alice, bob = alice_world["alice"], alice_world["bob"]
    alice_ids = {alice_world["mine"]["id"], alice_world["paused"]["id"]}
    for query in ("", "?tag=home", "?status=scheduled", "?status=paused", "?method=log", "?limit=1"):
        listed = {r["id"] for r in client.get(f"/reminders{query}", headers=bob).get_json()}
        assert not listed & alice_ids, query
    assert {r["id"] for r in client.get("/reminders", headers=bob).get_json()} == {alice_world["theirs"]["id"]}
    assert {r["id"] for r in client.get("/reminders", headers=alice).get_json()} == alice_ids


def test_a_cursor_never_reaches_another_keys_reminders(client, alice_world, make_reminder):
    bob = alice_world["bob"]
    second = make_reminder(headers=bob)
    seen, url = [], "/reminders?limit=1"
    while url:
        response = client.get(url, headers=bob)
        seen.extend(r["id"] for r in response.get_json())
        match = re.search(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
        url = match.group(1) if match else None
        assert len(seen) < 10
    assert seen == [second["id"], alice_world["theirs"]["id"]]


def test_deliveries_hold_only_the_callers(client, admin, alice_world):
    alice, bob = alice_world["alice"], alice_world["bob"]
    mine = alice_world["mine"]["id"]
    alice_deliveries = client.get("/deliveries", headers=alice).get_json()
    assert [d["reminder_id"] for d in alice_deliveries] == [mine]
    assert client.get("/deliveries", headers=bob).get_json() == []
    assert client.get(f"/deliveries?reminder_id={mine}", headers=bob).get_json() == []
    assert client.get("/deliveries?status=pending", headers=bob).get_json() == []
    assert [d["id"] for d in client.get("/deliveries", headers=admin).get_json()] == [alice_deliveries[0]["id"]]


def test_an_idempotency_key_never_returns_another_keys_reminder(client, alice_world):
    alice, bob = alice_world["alice"], alice_world["bob"]
    body = {"message": "mine", "method": "log", "when": WHEN, "idempotency_key": "shared-key"}
    first = client.post("/reminders", json=body, headers=alice)
    assert first.status_code == 201
    for headers, payload in (
        (bob, body),
        ({**bob, "Idempotency-Key": "shared-key"}, {k: v for k, v in body.items() if k != "idempotency_key"}),
    ):
        response = client.post("/reminders", json=payload, headers=headers)
        assert response.status_code in (200, 201)
        assert response.get_json()["id"] != first.get_json()["id"]
        assert response.get_json()["message"] == "mine"
    batch = client.post("/reminders/batch", json={"reminders": [body]}, headers=bob)
    assert batch.status_code == 201
    assert batch.get_json()[0]["id"] != first.get_json()["id"]


def test_reminders_created_by_a_key_belong_to_it_on_every_create_route(app, client, two_keys):
    alice, _ = two_keys
    made = [
        client.post("/reminders", json={"message": "a", "method": "log", "when": WHEN}, headers=alice).get_json()["id"],
        client.post("/remind", json={"message": "b", "method": "log", "when": WHEN}, headers=alice).get_json()["id"],
        *(r["id"] for r in client.post(
            "/reminders/batch", json={"reminders": [{"message": "c", "method": "log", "when": WHEN}]}, headers=alice
        ).get_json()),
    ]
    with app.app_context():
        owners = set(db.session.scalars(db.select(Reminder.owner).where(Reminder.id.in_(made))))
    assert owners == {"alice"}


def count_reminders(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Reminder))


@pytest.mark.parametrize("field", sorted(READ_ONLY))
def test_read_only_fields_in_a_create_body_are_refused(app, client, two_keys, field):
    alice, _ = two_keys
    body = {"message": "x", "method": "log", "when": WHEN, field: READ_ONLY[field]}
    before = count_reminders(app)
    for path, payload in (
        ("/reminders", body),
        ("/reminders/batch", {"reminders": [body]}),
        ("/remind", body),
        ("/reminders/preview", body),
    ):
        response = client.post(path, json=payload, headers=alice)
        assert response.status_code == 422, (path, response.get_json())
        assert field in response.get_data(as_text=True)
    assert count_reminders(app) == before


@pytest.mark.parametrize("field", sorted(READ_ONLY))
def test_read_only_fields_in_a_patch_body_are_refused_and_nothing_changes(client, admin, two_keys, make_reminder, field):
    alice, _ = two_keys
    made = make_reminder(headers=alice)
    before = client.get(f"/reminders/{made['id']}", headers=admin).get_json()
    for body in ({field: READ_ONLY[field]}, {"message": "changed", field: READ_ONLY[field]}):
        response = client.patch(f"/reminders/{made['id']}", json=body, headers=alice)
        assert response.status_code == 422, response.get_json()
        assert field in response.get_json()["fields"]
    assert client.get(f"/reminders/{made['id']}", headers=admin).get_json() == before
