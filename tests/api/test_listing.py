"""GET /reminders and the delivery logs: order, filters, Link-header paging."""
from datetime import datetime

import pytest

from tests.conftest import make_config


def ids(response):
    """The ids in a list response."""
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()]


def test_list_is_a_json_array_newest_first(client, admin, make_reminder):
    made = [make_reminder(message=f"m{i}")["id"] for i in range(3)]
    response = client.get("/reminders", headers=admin)
    assert isinstance(response.get_json(), list)
    assert ids(response) == made[::-1]
    assert "Link" not in response.headers


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=scheduled", ["plain", "webhook", "family", "family-work"]),
        ("status=paused", ["paused"]),
        ("method=webhook", ["webhook"]),
        ("method=api", ["webhook"]),
        ("method=sms", []),
        ("tag=family", ["family", "family-work"]),
        ("tag=work", ["family-work"]),
        ("tag=fam", []),
        ("tag=family&status=paused", []),
    ],
)
def test_filters(client, admin, make_reminder, query, expected):
    made = {
        "plain": make_reminder(),
        "webhook": make_reminder(method="webhook", params={"url": "https://example.com/h"}),
        "family": make_reminder(tags=["family"]),
        "family-work": make_reminder(tags=["family", "work"]),
        "paused": make_reminder(tags=["x"]),
    }
    client.post(f"/reminders/{made['paused']['id']}/pause", headers=admin)
    names = {r["id"]: name for name, r in made.items()}
    assert sorted(names[i] for i in ids(client.get(f"/reminders?{query}", headers=admin))) == sorted(expected)


def test_tag_filter_treats_like_wildcards_literally(client, admin, make_reminder):
    make_reminder(tags=["a_b"])
    make_reminder(tags=["axb"])
    assert len(ids(client.get("/reminders?tag=a_b", headers=admin))) == 1
    assert ids(client.get("/reminders?tag=a%25", headers=admin)) == []


@pytest.mark.parametrize("limit", [1, 7, 25, 60])
def test_paging_follows_link_to_the_end(client, admin, walk_pages, limit):
    body = {"reminders": [{"message": f"m{i}", "when": "2099-01-01T00:00:00Z", "tags": ["p"]} for i in range(60)]}
    created = [r["id"] for r in client.post("/reminders/batch", json=body, headers=admin).get_json()]
    pages = walk_pages(f"/reminders?limit={limit}&tag=p")
    seen = [item["id"] for page in pages for item in page]
    assert seen == sorted(created, reverse=True)  # every id exactly once, newest first
    assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
    assert len(pages) == -(-60 // limit)


def test_link_keeps_the_filters(client, admin, make_reminder):
    for _ in range(3):
        make_reminder(tags=["keep"])
    make_reminder(tags=["other"])
    link = client.get("/reminders?tag=keep&limit=2", headers=admin).headers["Link"]
    assert "tag=keep" in link and "limit=2" in link and 'rel="next"' in link


def test_page_size_is_capped(tmp_path, database_url):
    from app import create_app
    from app.extensions import db
    from tests.conftest import ADMIN_KEY

    app = create_app(make_config(tmp_path, DATABASE_URL=database_url, MAX_PAGE_SIZE=3))
    with app.app_context():
        db.create_all()
    client, headers = app.test_client(), {"X-API-Key": ADMIN_KEY}
    for i in range(5):
        client.post("/reminders", json={"message": f"m{i}", "when": "2099-01-01T00:00:00Z"}, headers=headers)
    response = client.get("/reminders?limit=1000", headers=headers)
    assert len(response.get_json()) == 3 and 'rel="next"' in response.headers["Link"]
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=abc", "limit"), ("cursor=garbage!!", "cursor"),
                                           ("status=sleeping", "status")])
def test_bad_list_queries_are_422(client, admin, query, field):
    response = client.get(f"/reminders?{query}", headers=admin)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_reminder_deliveries_newest_first_and_scoped(client, admin, make_reminder, add_delivery):
    first, second = make_reminder(), make_reminder()
    mine = [add_delivery(first["id"], created_at=datetime(2026, 11, 1, h)) for h in (1, 2, 3)]
    add_delivery(second["id"])
    assert ids(client.get(f"/reminders/{first['id']}/deliveries", headers=admin)) == mine[::-1]


def test_last_delivery_and_runs_are_shown(app, client, admin, make_reminder, add_delivery):
    from app.extensions import db
    from app.models import Reminder

    reminder = make_reminder()
    delivery_id = add_delivery(reminder["id"], status="succeeded", detail="HTTP 200")
    with app.app_context():
        row = db.session.get(Reminder, reminder["id"])
        row.last_delivery_id, row.runs = delivery_id, 1
        db.session.commit()
    shown = client.get(f"/reminders/{reminder['id']}", headers=admin).get_json()
    assert shown["runs"] == 1
    assert shown["last_delivery"]["id"] == delivery_id and shown["last_delivery"]["detail"] == "HTTP 200"
    assert shown["last_delivery"]["finished_at"].endswith("Z")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["a1", "a2", "b1"]),
        ("status=failed", ["a2"]),
        ("reminder_id={b}", ["b1"]),
        ("since=2026-11-02T00:00:00Z", ["a2", "b1"]),
        ("since=2026-11-02T01:00:00%2B01:00", ["a2", "b1"]),
        ("since=2026-11-03T00:00:00Z", ["b1"]),
        ("status=failed&reminder_id={b}", []),
    ],
)
def test_delivery_filters(client, admin, make_reminder, add_delivery, query, expected):
    a, b = make_reminder(), make_reminder()
    made = {
        "a1": add_delivery(a["id"], "succeeded", created_at=datetime(2026, 11, 1)),
        "a2": add_delivery(a["id"], "failed", created_at=datetime(2026, 11, 2), error="HTTP 500"),
        "b1": add_delivery(b["id"], "succeeded", created_at=datetime(2026, 11, 3)),
    }
    names = {v: k for k, v in made.items()}
    got = ids(client.get(f"/deliveries?{query.format(b=b['id'])}", headers=admin))
    assert sorted(names[i] for i in got) == sorted(expected)
    assert got == sorted(got, reverse=True)


@pytest.mark.parametrize("query, field", [("since=yesterday", "since"), ("status=done", "status"),
                                           ("reminder_id=x", "reminder_id"), ("limit=-1", "limit")])
def test_bad_delivery_queries_are_422(client, admin, query, field):
    response = client.get(f"/deliveries?{query}", headers=admin)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_delivery_paging(client, admin, make_reminder, add_delivery, walk_pages):
    reminder = make_reminder()
    made = [add_delivery(reminder["id"]) for _ in range(7)]
    for url in ("/deliveries?limit=3", f"/reminders/{reminder['id']}/deliveries?limit=3"):
        pages = walk_pages(url)
        assert [d["id"] for page in pages for d in page] == made[::-1]
        assert [len(page) for page in pages] == [3, 3, 1]


def test_another_keys_deliveries_are_invisible(client, admin, other_key, make_reminder, add_delivery):
    reminder = make_reminder()
    add_delivery(reminder["id"])
    assert client.get("/deliveries", headers=other_key).get_json() == []
    assert client.get(f"/deliveries?reminder_id={reminder['id']}", headers=other_key).get_json() == []
