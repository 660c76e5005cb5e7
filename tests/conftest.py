"""Fixtures shared by every test: an app on its own SQLite file, a client, a CLI runner."""
import pytest

from app import create_app
from app.config import Config
from app.extensions import db
from tests.databases import drop_pg_schema, new_pg_schema, pg_unavailable_reason

ADMIN_KEY = "test-admin-key-0123456789abcdef"


def make_config(tmp_path, **overrides):
    """A test Config on a fresh SQLite file under tmp_path."""
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tifftock.db'}",
        "API_KEY": ADMIN_KEY,
        "TESTING": True,
        "DEFAULT_TIMEZONE": "UTC",
        "PROCESS_MODULES": [],
    }
    settings.update(overrides)
    return Config(**settings)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The DATABASE_URL of one test: a fresh SQLite file, or a fresh schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tifftock.db'}"
        return
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    url, schema = new_pg_schema()
    yield url
    drop_pg_schema(schema)


@pytest.fixture
def config(tmp_path, database_url):
    """The test settings; override attributes before using `app`."""
    return make_config(tmp_path, DATABASE_URL=database_url)


@pytest.fixture
def app(config):
    """The app with its schema created on a temp SQLite file."""
    app = create_app(config)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for `flask …` commands."""
    return app.test_cli_runner()


@pytest.fixture
def admin():
    """Headers with the admin key."""
    return {"X-API-Key": ADMIN_KEY}


@pytest.fixture
def make_reminder(client, admin):
    """Create a reminder through the API and return its JSON; overrides go into the body."""

    def make(headers=None, expect=201, **body):
        payload = {"message": "Take the pills", "method": "log", "when": "2099-01-01T08:00:00Z"}
        payload.update(body)
        response = client.post("/reminders", json=payload, headers=headers or admin)
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    return make
