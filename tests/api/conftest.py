"""Helpers for the API tests: reading the DB behind the API, paging, factories for scheduler-written rows."""
import logging
import re
from datetime import datetime, timezone

import pytest

from app import create_app
from app.extensions import db
from app.models import Delivery, Reminder, SchedulerHeartbeat

LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


@pytest.fixture
def count_rows(app):
    """How many rows a model's table holds (deleted ones included): proves what was or was not written."""

    def count(model=Reminder):
        with app.app_context():
            return db.session.scalar(db.select(db.func.count()).select_from(model))

    return count


@pytest.fixture
def stored(app):
    """The Reminder row with this id as the scheduler would read it, detached."""

    def load(reminder_id):
        with app.app_context():
            row = db.session.get(Reminder, reminder_id)
            db.session.expunge_all()
            return row

    return load


@pytest.fixture
def add_delivery(app):
    """Record a delivery attempt the way the scheduler does; returns its id."""

    def add(reminder_id, status="succeeded", created_at=None, **fields):
        with app.app_context():
            reminder = db.session.get(Reminder, reminder_id)
            when = created_at or datetime(2026, 11, 1, 8, 0)
            row = Delivery(reminder_id=reminder_id, owner=reminder.owner, scheduled_for=when, attempt=1,
                           status=status, started_at=when, finished_at=when, created_at=when, **fields)
            db.session.add(row)
            db.session.commit()
            return row.id

    return add


@pytest.fixture
def heartbeat(app):
    """Record a scheduler heartbeat seen at `seen_at` (aware UTC)."""

    def beat(seen_at, scheduler_id="sched-1"):
        with app.app_context():
            naive = seen_at.astimezone(timezone.utc).replace(tzinfo=None)
            db.session.add(SchedulerHeartbeat(scheduler_id=scheduler_id, hostname="h", pid=1, seen_at=naive))
            db.session.commit()

    return beat


@pytest.fixture
def walk_pages(client, admin):
    """Follow `Link: rel="next"` from `url` to the end; returns the list of pages (each a list of dicts)."""

    def walk(url, headers=None):
        pages = []
        while url:
            response = client.get(url, headers=headers or admin)
            assert response.status_code == 200, response.get_json()
            pages.append(response.get_json())
            match = LINK_NEXT.search(response.headers.get("Link", ""))
            url = match.group(1) if match else None
            assert len(pages) < 1000, "paging never ends"
        return pages

    return walk


@pytest.fixture
def other_key(runner):
    """A second, named API key (another owner) created with `flask keys create`."""
    result = runner.invoke(args=["keys", "create", "bob"])
    assert result.exit_code == 0, result.output
    return {"X-API-Key": result.stdout.strip().splitlines()[0]}


@pytest.fixture
def keep_logging():
    """Undo what `flask db upgrade` does to logging: migrations/env.py's fileConfig() disables every
    existing logger and replaces the root handlers, which would silence later tests' log captures."""
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(lg, lg.disabled, lg.level, list(lg.handlers), lg.propagate) for lg in loggers if isinstance(lg, logging.Logger)]
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    for lg, disabled, level, handlers, propagate in saved:
        lg.disabled, lg.propagate = disabled, propagate
        lg.setLevel(level)
        lg.handlers[:] = handlers


@pytest.fixture
def bare_app(config, keep_logging):
    """An app on an empty database: no create_all, so `flask db upgrade` builds the schema."""
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
