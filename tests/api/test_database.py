"""The schema: the scheduler's due query uses its index, and `flask db upgrade` builds what the models describe."""
import pytest
import sqlalchemy as sa

from app.extensions import db

DUE_QUERY = "SELECT id FROM reminders WHERE status='scheduled' AND next_run_at <= ? ORDER BY next_run_at LIMIT 100"


def test_due_query_uses_the_index(app, make_reminder):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    for i in range(20):
        make_reminder(when=f"20{30 + i}-01-01T00:00:00Z")
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            connection.execute("ANALYZE")
            rows = connection.execute(f"EXPLAIN QUERY PLAN {DUE_QUERY}", ("2040-01-01 00:00:00",)).fetchall()
        finally:
            connection.close()
    plan = " | ".join(str(row[-1]) for row in rows)
    assert "ix_reminders_due" in plan, plan
    assert "SCAN reminders" not in plan and "USE TEMP B-TREE" not in plan, plan


def schema_of(engine, tables):
    """{table: {column: (type, nullable)}} and {table: {index name: columns}} as the database reports them."""
    inspector = sa.inspect(engine)
    columns = {t: {c["name"]: (type(c["type"]).__name__, c["nullable"]) for c in inspector.get_columns(t)} for t in tables}
    indexes = {t: {i["name"]: tuple(i["column_names"]) for i in inspector.get_indexes(t)} for t in tables}
    return columns, indexes


def model_schema():
    """The same description taken from the models."""
    tables = db.metadata.sorted_tables
    columns = {t.name: {c.name: c.nullable for c in t.columns} for t in tables}
    indexes = {t.name: {i.name: tuple(c.name for c in i.columns) for i in t.indexes} for t in tables}
    return columns, indexes


def test_db_upgrade_builds_the_models_schema_and_downgrade_removes_it(bare_app):
    runner = bare_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    with bare_app.app_context():
        model_columns, model_indexes = model_schema()
        names = set(sa.inspect(db.engine).get_table_names())
        assert set(model_columns) <= names
        columns, indexes = schema_of(db.engine, model_columns)
        for table, expected in model_columns.items():
            assert {name: nullable for name, (_, nullable) in columns[table].items()} == expected, table
        for table, expected in model_indexes.items():
            assert expected.items() <= indexes[table].items(), table
        assert indexes["reminders"]["ix_reminders_due"] == ("status", "next_run_at")
        # Idempotency relies on the database refusing a second (owner, key).
        uniques = {tuple(u["column_names"]) for u in sa.inspect(db.engine).get_unique_constraints("reminders")}
        assert ("owner", "idempotency_key") in uniques
        db.engine.dispose()

    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    with bare_app.app_context():
        left = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert not left & set(model_columns)
        db.engine.dispose()


def test_upgraded_database_serves_the_api(bare_app):
    assert bare_app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    from tests.conftest import ADMIN_KEY

    client = bare_app.test_client()
    headers = {"X-API-Key": ADMIN_KEY}
    created = client.post("/reminders", json={"message": "m", "when": "2099-01-01T00:00:00Z", "tags": ["t"]}, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert [r["id"] for r in client.get("/reminders?tag=t", headers=headers).get_json()] == [created.get_json()["id"]]
    assert client.get("/healthz").status_code == 200
