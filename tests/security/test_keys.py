"""API keys: `flask keys create|list|revoke|rotate`, hashing, the admin key, and the startup refusal."""
import re

import pytest

from app import create_app
from app.auth import hash_key
from tests.conftest import make_config

KEY_SHAPE = re.compile(r"tt_[A-Za-z0-9_-]{43}")


def keys(runner, *args):
    """Run `flask keys ARGS`."""
    return runner.invoke(args=["keys", *args])


def test_create_prints_a_prefixed_random_key_once_and_stores_only_its_hash(runner, database_text):
    result = keys(runner, "create", "phone")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert KEY_SHAPE.fullmatch(key), key  # "tt_" + 32 random bytes in URL-safe base64
    assert "shown only now" in result.stderr
    stored = database_text()
    assert key not in stored and key[len("tt_"):] not in stored
    assert hash_key(key) in stored
    # Listing never prints it again.
    listing = keys(runner, "list")
    assert key not in listing.output


def test_each_key_is_different(make_key):
    assert len({make_key(f"k{i}") for i in range(5)}) == 5


def test_a_created_key_works_with_either_header(client, make_key):
    key = make_key("phone")
    assert client.get("/reminders", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/reminders", headers={"Authorization": f"Bearer {key}"}).status_code == 200


@pytest.mark.parametrize("wrong", ["tt_" + "A" * 43, "tt_", "not-a-key", "Bearer", " "])
def test_a_wrong_key_gets_401_json(client, make_key, wrong):
    make_key("phone")
    response = client.get("/reminders", headers={"X-API-Key": wrong})
    assert response.status_code == 401 and response.is_json
    assert response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_key_gets_401_json(client):
    response = client.get("/reminders")
    assert response.status_code == 401 and response.is_json
    assert "X-API-Key" in response.get_json()["error"]


def test_a_key_differing_in_one_character_is_refused(client, make_key):
    key = make_key("phone")
    twisted = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert client.get("/reminders", headers={"X-API-Key": twisted}).status_code == 401


def test_list_shows_names_and_states_but_no_key_material(runner, make_key):
    first, second = make_key("alice"), make_key("bob")
    keys(runner, "revoke", "bob")
    result = keys(runner, "list")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0].split("\t") == ["name", "key", "created", "state"]
    alice, bob = (line.split("\t") for line in lines[1:])
    assert alice[0] == "alice" and alice[3] == "active"
    assert bob[0] == "bob" and bob[3].startswith("revoked ")
    for key in (first, second):
        assert key not in result.output and hash_key(key) not in result.output
        # At most the prefix and 4 characters, to tell keys apart.
        assert key[:7] in result.output and key[:8] not in result.output


def test_list_without_keys_says_so(runner):
    result = keys(runner, "list")
    assert result.exit_code == 0 and result.stdout == ""
    assert "No named keys" in result.stderr


def test_revoked_key_gets_401_at_once(client, runner, make_key):
    key = make_key("phone")
    headers = {"X-API-Key": key}
    assert client.get("/reminders", headers=headers).status_code == 200
    result = keys(runner, "revoke", "phone")
    assert result.exit_code == 0 and "revoked" in result.output
    response = client.get("/reminders", headers=headers)
    assert response.status_code == 401 and response.is_json
    assert client.get("/reminders", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    again = keys(runner, "revoke", "phone")
    assert again.exit_code == 0 and "already revoked" in again.output


def test_revoking_an_unknown_name_fails(runner):
    result = keys(runner, "revoke", "ghost")
    assert result.exit_code != 0 and "no key named 'ghost'" in result.output


def test_duplicate_name_is_refused_and_the_first_key_keeps_working(client, runner, make_key):
    key = make_key("phone")
    result = keys(runner, "create", "phone")
    assert result.exit_code != 0 and "exists" in result.output
    assert not KEY_SHAPE.search(result.output)
    assert client.get("/reminders", headers={"X-API-Key": key}).status_code == 200


def test_a_revoked_name_is_not_reused_by_create(runner, make_key):
    make_key("phone")
    keys(runner, "revoke", "phone")
    result = keys(runner, "create", "phone")
    assert result.exit_code != 0 and "rotate" in result.output


@pytest.mark.parametrize("name", ["", "admin", "ADMIN", "has space", "semi;colon", "ünicode", "a" * 65, "../etc"])
def test_bad_names_are_refused(runner, name):
    result = keys(runner, "create", name)
    assert result.exit_code != 0
    assert "NAME must be" in result.output
    assert not KEY_SHAPE.search(result.output)


@pytest.mark.parametrize("name", ["a", "phone-1", "home_assistant", "A" * 64])
def test_good_names_are_accepted(make_key, name):
    assert KEY_SHAPE.fullmatch(make_key(name))


def test_rotate_replaces_the_key_and_keeps_the_reminders(client, runner, make_key, make_reminder):
    old = make_key("phone")
    made = make_reminder(headers={"X-API-Key": old})
    result = keys(runner, "rotate", "phone")
    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    assert KEY_SHAPE.fullmatch(new) and new != old
    assert client.get("/reminders", headers={"X-API-Key": old}).status_code == 401
    response = client.get(f"/reminders/{made['id']}", headers={"X-API-Key": new})
    assert response.status_code == 200


def test_rotate_brings_back_a_revoked_name(client, runner, make_key):
    make_key("phone")
    keys(runner, "revoke", "phone")
    new = keys(runner, "rotate", "phone").stdout.strip()
    assert client.get("/reminders", headers={"X-API-Key": new}).status_code == 200
    assert "active" in keys(runner, "list").stdout


def test_rotate_of_an_unknown_name_fails(runner):
    result = keys(runner, "rotate", "ghost")
    assert result.exit_code != 0 and "no key named" in result.output


def test_admin_key_sees_every_keys_reminders(client, admin, two_keys, make_reminder):
    alice, bob = two_keys
    a = make_reminder(headers=alice, message="alice's")
    b = make_reminder(headers=bob, message="bob's")
    mine = make_reminder(message="admin's")
    listed = {r["id"] for r in client.get("/reminders", headers=admin).get_json()}
    assert {a["id"], b["id"], mine["id"]} <= listed
    for made in (a, b):
        assert client.get(f"/reminders/{made['id']}", headers=admin).status_code == 200
    assert client.post(f"/reminders/{a['id']}/pause", headers=admin).status_code == 200
    # And a tenant never sees the admin's.
    assert client.get(f"/reminders/{mine['id']}", headers=alice).status_code == 404


@pytest.mark.parametrize(
    "value, reason",
    [
        ("", "not set"),
        ("changeme", "placeholder"),
        ("change-me-please-now-ok", "placeholder"),
        ("your-api-key", "placeholder"),
        ("short-key", "too short"),
    ],
)
def test_app_refuses_to_start_with_an_unusable_admin_key(tmp_path, value, reason):
    with pytest.raises(RuntimeError) as raised:
        create_app(make_config(tmp_path, API_KEY=value))
    assert reason in str(raised.value)
    assert "API_KEY" in str(raised.value)


def test_app_starts_with_a_good_admin_key(tmp_path):
    assert create_app(make_config(tmp_path, API_KEY="k" * 16)) is not None
