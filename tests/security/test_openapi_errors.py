"""The OpenAPI document states the errors TiffTock really answers, in the body it really sends."""
import pytest

from app.auth import PUBLIC_ENDPOINTS

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_every_operation_documents_the_shared_errors(spec):
    for method, path, operation in operations(spec):
        codes = set(operation["responses"])
        where = f"{method.upper()} {path}"
        if path == "/healthz":
            assert operation["security"] == [] and "401" not in codes and "429" not in codes, where
            continue
        assert {"401", "429"} <= codes, where
        if "{" in path:
            assert "404" in codes, where
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= codes, where


def test_only_the_public_routes_need_no_key(app, spec):
    public = {operation_path for _, operation_path, operation in operations(spec) if operation.get("security") == []}
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in PUBLIC_ENDPOINTS}
    assert public == {"/healthz"} and "/healthz" in rules


def test_the_documented_error_body_is_the_one_sent(client, admin, spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "error"] and set(error["properties"]) == {"error", "code", "fields"}
    assert error["additionalProperties"] is False
    answers = [
        client.get("/reminders"),
        client.get("/reminders/999", headers=admin),
        client.post("/reminders", json={"message": ""}, headers=admin),
        client.post("/reminders", data="{", headers={**admin, "Content-Type": "application/json"}),
    ]
    for response in answers:
        body = response.get_json()
        assert response.status_code >= 400 and set(body) <= {"error", "code", "fields"} and {"error", "code"} <= set(body)
        assert body["code"] == response.status_code
