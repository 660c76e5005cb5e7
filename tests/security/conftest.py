"""Fixtures for the security tests: named keys made through `flask keys`, and a peek at the raw database."""
import pytest
import sqlalchemy as sa

from app.extensions import db


@pytest.fixture
def make_key(runner):
    """Create a named key with `flask keys create NAME`; returns the key it printed."""

    def make(name):
        result = runner.invoke(args=["keys", "create", name])
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    return make


@pytest.fixture
def two_keys(make_key):
    """Headers of two tenants, alice and bob."""
    return {"X-API-Key": make_key("alice")}, {"X-API-Key": make_key("bob")}


@pytest.fixture
def database_text(app):
    """Everything the database holds, as text: the SQLite files byte for byte, or every row on PostgreSQL."""

    def dump():
        with app.app_context():
            url = db.engine.url
            if url.get_backend_name() == "sqlite":
                db.session.remove()
                db.engine.dispose()
                text = ""
                for suffix in ("", "-wal", "-journal"):
                    try:
                        with open(url.database + suffix, "rb") as handle:
                            text += handle.read().decode("latin-1")
                    except FileNotFoundError:
                        pass
                return text
            rows = []
            for table in sa.inspect(db.engine).get_table_names():
                rows.extend(str(row) for row in db.session.execute(sa.text(f'SELECT * FROM "{table}"')))
            return "\n".join(rows)

    return dump
