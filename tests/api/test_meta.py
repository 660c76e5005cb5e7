"""Health, process discovery, docs, the OpenAPI document, and JSON for every error."""
from datetime import datetime, timedelta, timezone

import pytest

# Every route of DESIGN.md's API table, as it appears in the OpenAPI document.
ROUTES = [
    ("post", "/reminders"), ("get", "/reminders"), ("post", "/reminders/batch"), ("post", "/reminders/preview"),
    ("get", "/reminders/{reminder_id}"), ("patch", "/reminders/{reminder_id}"), ("delete", "/reminders/{reminder_id}"),
    ("post", "/reminders/{reminder_id}/pause"), ("post", "/reminders/{reminder_id}/resume"),
    ("post", "/reminders/{reminder_id}/trigger"), ("get", "/reminders/{reminder_id}/deliveries"),
    ("get", "/reminders/{reminder_id}/preview"), ("get", "/deliveries"), ("get", "/processes"), ("get", "/healthz"),
    ("post", "/remind"), ("get", "/reminder/{reminder_id}"), ("delete", "/reminder/{reminder_id}"),
]
WITH_BODY = {("post", "/reminders"), ("post", "/reminders/batch"), ("post", "/reminders/preview"),
             ("patch", "/reminders/{reminder_id}"), ("post", "/remind")}


def test_healthz_without_scheduler(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    health = response.get_json()
    assert (health["status"], health["database"]) == ("ok", "ok")
    assert health["scheduler"] == "none" and health["scheduler_heartbeat_age_seconds"] is None


def test_healthz_reports_the_newest_heartbeat_age(client, heartbeat):
    now = datetime.now(timezone.utc)
    heartbeat(now - timedelta(minutes=10), "old")
    heartbeat(now - timedelta(seconds=3), "new")
    health = client.get("/healthz").get_json()
    assert 2 <= health["scheduler_heartbeat_age_seconds"] < 60
    assert health["scheduler"] == "ok" and health["schedulers"] == 1


def test_healthz_reports_a_stale_scheduler(client, heartbeat):
    heartbeat(datetime.now(timezone.utc) - timedelta(minutes=10))
    health = client.get("/healthz").get_json()
    assert health["scheduler"] == "stale" and health["scheduler_heartbeat_age_seconds"] >= 600


def test_processes_lists_builtins_with_json_schemas(client, admin):
    response = client.get("/processes", headers=admin)
    assert response.status_code == 200
    processes = {p["name"]: p for p in response.get_json()}
    assert {"log", "webhook", "email", "sms"} <= set(processes)
    log = processes["log"]
    assert log["params_schema"]["type"] == "object"
    assert log["params_schema"]["properties"]["level"]["enum"] == ["debug", "info", "warning"]
    assert "api" in processes["webhook"]["aliases"]
    assert "url" in processes["webhook"]["params_schema"]["properties"]


def test_docs_is_the_swagger_ui_page(client):
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "swagger-ui" in page and "openapi.json" in page


@pytest.fixture
def spec(client):
    """The OpenAPI document."""
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def resolve(spec, node):
    """Follow a local $ref."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@pytest.mark.parametrize("method, path", ROUTES)
def test_openapi_documents_every_route(spec, method, path):
    assert spec["openapi"].startswith("3.")
    operation = spec["paths"][path][method]
    assert operation.get("summary") or operation.get("description")
    success = [code for code in operation["responses"] if str(code).startswith("2")]
    assert success, operation["responses"]
    for code in success:
        response = resolve(spec, operation["responses"][code])
        if code != "204":
            assert resolve(spec, response["content"]["application/json"]["schema"])
    if (method, path) in WITH_BODY:
        assert resolve(spec, operation["requestBody"]["content"]["application/json"]["schema"])
    for code, response in operation["responses"].items():
        if str(code)[0] in "45":
            assert "application/json" in resolve(spec, response)["content"]


def test_openapi_documents_the_list_filters_and_security(spec):
    names = {p["name"] for p in spec["paths"]["/reminders"]["get"]["parameters"]}
    assert {"status", "method", "tag", "limit", "cursor"} <= names
    names = {p["name"] for p in spec["paths"]["/deliveries"]["get"]["parameters"]}
    assert {"status", "reminder_id", "since"} <= names
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" for s in schemes.values())
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


@pytest.mark.parametrize(
    "method, path, status",
    [("get", "/nope", 404), ("get", "/reminders/1/nope", 404), ("put", "/reminders", 405),
     ("delete", "/reminders", 405), ("get", "/reminders/batch", 405), ("post", "/deliveries", 405)],
)
def test_unknown_routes_and_methods_answer_json(client, admin, method, path, status):
    response = getattr(client, method)(path, headers=admin)
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]
    assert "<html" not in response.get_data(as_text=True).lower()
    if status == 405:
        assert "Allow" in response.headers


def test_405_without_a_key_is_still_json(client):
    response = client.put("/reminders")
    assert response.status_code in (401, 405) and response.is_json


@pytest.fixture
def crashing_client(app):
    """A client of the app with a test-only route that raises."""

    @app.route("/test-crash")
    def crash():
        raise RuntimeError("secret detail that must not leak")

    return app.test_client()


def test_a_crash_is_a_json_500_without_traceback(crashing_client, admin):
    response = crashing_client.get("/test-crash", headers=admin)
    assert response.status_code == 500 and response.is_json
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret detail" not in text
    assert response.get_json()["error"]


def test_healthz_is_503_json_when_the_database_does_not_answer(tmp_path):
    from app import create_app
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.is_json and "Database" in response.get_json()["error"]
