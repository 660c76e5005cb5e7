"""The webhook guard seen through the API: a reminder aimed at the machine's own metadata or LAN is refused.

The guard itself (DNS resolution, redirects, the check at send time) is tested in tests/processes.
"""
import pytest

WHEN = "2099-01-01T08:00:00Z"
ALWAYS_REFUSED = [
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0.0.0.0/",
    "ftp://example.com/",
    "file:///etc/passwd",
]
PRIVATE = ["http://127.0.0.1:9/", "http://[::1]/", "http://127.1/", "http://10.0.0.1/", "http://192.168.1.10:8123/"]


def post(client, headers, url, method="webhook", path="/reminders"):
    body = {"message": "x", "method": method, "when": WHEN, "params": {"url": url}}
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize("method", ["webhook", "api"])
@pytest.mark.parametrize("url", ALWAYS_REFUSED)
def test_link_local_and_unspecified_targets_are_always_refused(client, admin, url, method):
    response = post(client, admin, url, method)
    assert response.status_code == 422, response.get_json()
    assert "url" in response.get_json()["fields"]["params"]
    assert client.get("/reminders", headers=admin).get_json() == []


@pytest.mark.parametrize("path", ["/reminders", "/remind", "/reminders/preview"])
def test_every_create_route_applies_the_guard(client, admin, path):
    assert post(client, admin, "http://169.254.169.254/latest/meta-data", path=path).status_code == 422


def test_the_guard_holds_on_patch_and_in_a_batch(client, admin, make_reminder):
    made = make_reminder(method="webhook", params={"url": "https://example.com/hook"})
    response = client.patch(f"/reminders/{made['id']}", json={"params": {"url": "http://169.254.169.254/"}}, headers=admin)
    assert response.status_code == 422
    stored = client.get(f"/reminders/{made['id']}", headers=admin).get_json()
    assert stored["params"]["url"] == "https://example.com/hook"
    batch = {"reminders": [{"message": "x", "method": "webhook", "when": WHEN, "params": {"url": "http://[fe80::1]/"}}]}
    assert client.post("/reminders/batch", json=batch, headers=admin).status_code == 422


@pytest.mark.parametrize("url", PRIVATE)
def test_loopback_and_lan_targets_are_allowed_by_default(client, admin, url):
    """A home server calls Home Assistant on the same box or the LAN."""
    assert post(client, admin, url).status_code == 201


@pytest.fixture
def block_private(config):
    """WEBHOOK_BLOCK_PRIVATE=true for the app of this test (request it before `client`)."""
    config.WEBHOOK_BLOCK_PRIVATE = True


@pytest.mark.parametrize("url", PRIVATE + ALWAYS_REFUSED[:2])
def test_loopback_and_lan_targets_are_refused_with_webhook_block_private(block_private, client, admin, url):
    response = post(client, admin, url)
    assert response.status_code == 422, response.get_json()
    assert "url" in response.get_json()["fields"]["params"]
