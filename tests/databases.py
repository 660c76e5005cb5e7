"""The databases the suite runs on: a temp SQLite file always, PostgreSQL when one answers."""
import os
import uuid
from functools import lru_cache
from urllib.parse import quote

import sqlalchemy as sa

# On the CI machine PostgreSQL listens here with trust auth; elsewhere set TEST_DATABASE_URL or go without.
DEFAULT_PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


def pg_base_url():
    """The PostgreSQL URL tests use, from TEST_DATABASE_URL or the CI default."""
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL


@lru_cache(maxsize=1)
def pg_unavailable_reason():
    """None when PostgreSQL answers, else why its tests are skipped."""
    if os.environ.get("TEST_DATABASES", "sqlite,postgresql").find("postgresql") < 0:
        return "PostgreSQL run disabled by TEST_DATABASES"
    url = pg_base_url()
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network error means "not reachable"
        return f"PostgreSQL not reachable at {sa.engine.make_url(url).render_as_string(hide_password=True)}: {type(exc).__name__}"
    return None


def new_pg_schema():
    """Create a fresh schema; returns (url whose connections use it, schema name)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(pg_base_url())
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in pg_base_url() else "?"
    # libpq `options` puts every connection (also a scheduler subprocess's) in the schema.
    return f"{pg_base_url()}{separator}options={quote(f'-csearch_path={schema}')}", schema


def drop_pg_schema(schema):
    """Drop a schema made by new_pg_schema."""
    engine = sa.create_engine(pg_base_url())
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
