"""Idempotent creates and the all-or-nothing batch route."""
import pytest

from app.models import Reminder

ITEM = {"message": "Take the pills", "method": "log", "when": "2099-01-01T08:00:00Z"}


@pytest.mark.parametrize("how", ["field", "header"])
def test_repeated_create_returns_the_first_reminder(client, admin, count_rows, how):
    body = {**ITEM, "idempotency_key": "abc-1"} if how == "field" else ITEM
    headers = {**admin, "Idempotency-Key": "abc-1"} if how == "header" else admin
    first = client.post("/reminders", json=body, headers=headers)
    again = client.post("/reminders", json={**body, "message": "a retry with other text"}, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert count_rows(Reminder) == 1


def test_field_and_header_share_one_key_space(client, admin, count_rows):
    first = client.post("/reminders", json={**ITEM, "idempotency_key": "k"}, headers=admin).get_json()
    again = client.post("/reminders", json=ITEM, headers={**admin, "Idempotency-Key": "k"}).get_json()
    assert again["id"] == first["id"] and count_rows(Reminder) == 1


def test_different_keys_make_different_reminders(client, admin, count_rows):
    for key in ("k1", "k2"):
        assert client.post("/reminders", json=ITEM, headers={**admin, "Idempotency-Key": key}).status_code == 201
    assert client.post("/reminders", json=ITEM, headers=admin).status_code == 201
    assert client.post("/reminders", json=ITEM, headers=admin).status_code == 201  # no key: no dedupe
    assert count_rows(Reminder) == 4


def test_idempotency_keys_are_per_api_key(client, admin, other_key, count_rows):
    mine = client.post("/reminders", json=ITEM, headers={**admin, "Idempotency-Key": "same"}).get_json()
    theirs = client.post("/reminders", json=ITEM, headers={**other_key, "Idempotency-Key": "same"})
    assert theirs.status_code == 201 and theirs.get_json()["id"] != mine["id"]
    assert count_rows(Reminder) == 2


def test_batch_of_a_thousand(client, admin, count_rows):
    items = [{**ITEM, "message": f"reminder {i}", "tags": ["bulk"]} for i in range(1000)]
    response = client.post("/reminders/batch", json={"reminders": items}, headers=admin)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert [r["message"] for r in created] == [f"reminder {i}" for i in range(1000)]  # request order
    assert len({r["id"] for r in created}) == 1000
    assert all(r["next_run_at"] == "2099-01-01T08:00:00.000Z" for r in created)
    assert count_rows(Reminder) == 1000


@pytest.mark.parametrize(
    "bad, field",
    [({"cron": "nope"}, "cron"), ({"method": "pigeon"}, "method"), ({"message": ""}, "message"),
     ({"colour": "red"}, "colour"), ({"timezone": "Nowhere/Land"}, "timezone")],
)
def test_batch_is_all_or_nothing(client, admin, count_rows, bad, field):
    items = [{**ITEM, "message": f"m{i}"} for i in range(20)]
    items[7] = {**items[7], **bad}
    response = client.post("/reminders/batch", json={"reminders": items}, headers=admin)
    assert response.status_code == 422
    error = response.get_json()
    assert list(error["fields"]["reminders"]) in (["7"], [7])
    assert field in error["fields"]["reminders"].get("7", error["fields"]["reminders"].get(7))
    assert "7" in error["error"] and field in error["error"]
    assert count_rows(Reminder) == 0


def test_batch_names_every_bad_index(client, admin, count_rows):
    items = [ITEM, {**ITEM, "cron": "x"}, ITEM, {**ITEM, "every": "PT1S"}]
    response = client.post("/reminders/batch", json={"reminders": items}, headers=admin)
    assert set(map(str, response.get_json()["fields"]["reminders"])) == {"1", "3"}
    assert count_rows(Reminder) == 0


def test_batch_replays_idempotent_items(client, admin, count_rows):
    first = client.post("/reminders", json={**ITEM, "idempotency_key": "one"}, headers=admin).get_json()
    items = [{**ITEM, "idempotency_key": "one"}, {**ITEM, "idempotency_key": "two"}]
    response = client.post("/reminders/batch", json={"reminders": items}, headers=admin)
    assert response.status_code == 201
    assert response.get_json()[0]["id"] == first["id"]
    assert count_rows(Reminder) == 2
    again = client.post("/reminders/batch", json={"reminders": items}, headers=admin).get_json()
    assert [r["id"] for r in again] == [r["id"] for r in response.get_json()]
    assert count_rows(Reminder) == 2


def test_batch_with_a_key_twice_makes_one_reminder(client, admin, count_rows):
    items = [{**ITEM, "idempotency_key": "dup"}, {**ITEM, "idempotency_key": "dup"}]
    response = client.post("/reminders/batch", json={"reminders": items}, headers=admin)
    assert response.status_code == 201, response.get_json()
    ids = [r["id"] for r in response.get_json()]
    assert ids[0] == ids[1] and count_rows(Reminder) == 1
