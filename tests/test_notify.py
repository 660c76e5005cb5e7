"""On PostgreSQL the API wakes schedulers with NOTIFY when reminders change."""
import psycopg
import pytest
import sqlalchemy as sa

from app.notify import CHANNEL


def listener(database_url):
    """A psycopg connection LISTENing on the reminders channel in the test's schema."""
    url = sa.engine.make_url(database_url).set(drivername="postgresql")
    connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    connection.execute(f"LISTEN {CHANNEL}")
    return connection


def test_create_and_trigger_notify_on_postgresql(client, admin, make_reminder, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("NOTIFY is PostgreSQL's; SQLite schedulers poll")
    connection = listener(database_url)
    try:
        reminder = make_reminder()
        assert [n.channel for n in connection.notifies(timeout=10, stop_after=1)] == [CHANNEL]
        client.post(f"/reminders/{reminder['id']}/trigger", headers=admin)
        assert [n.channel for n in connection.notifies(timeout=10, stop_after=1)] == [CHANNEL]
        client.get("/reminders", headers=admin)
        assert list(connection.notifies(timeout=0.5)) == []
    finally:
        connection.close()
