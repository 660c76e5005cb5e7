"""Engine fixtures: the app's schema on a temp SQLite file, a plain Session on it, a driver for ticks."""
import random
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import claim_due, claim_manual, record_outcome, run_attempt
from app.extensions import db
from app.models import Delivery, Reminder
from app.processes import ProcessRegistry

SCHEDULER = "test-scheduler"
LEASE = 60


def at(text):
    """An aware UTC instant from ISO text."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Middle(random.Random):
    """A seeded Random whose uniform() is the middle of the range: no jitter, so times are exact."""

    def uniform(self, a, b):
        return (a + b) / 2


@pytest.fixture
def config(config):
    """Test settings with the scripted test process loaded as a plugin."""
    config.PROCESS_MODULES = ["tests.engine.processes"]
    return config


@pytest.fixture
def engine(app):
    """The SQLAlchemy engine of the app's database file."""
    with app.app_context():
        return db.engine


@pytest.fixture
def session(engine):
    """A plain Session (no Flask app context), as scheduler.py uses."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def registry(config):
    """The remind processes, including the test ones."""
    registry = ProcessRegistry(config)
    yield registry
    registry.close()


class Driver:
    """Claim, run and record like one scheduler tick, at an injected `now`."""

    def __init__(self, session, registry, config):
        self.session = session
        self.registry = registry
        self.config = config
        self.rng = Middle(0)

    def claim(self, now, limit=100, lease=LEASE, scheduler_id=SCHEDULER):
        return claim_manual(self.session, now, scheduler_id=scheduler_id, lease_seconds=lease, limit=limit) + claim_due(
            self.session, now, scheduler_id=scheduler_id, lease_seconds=lease, limit=limit, config=self.config
        )

    def finish(self, now, attempt):
        outcome = run_attempt(attempt, self.registry)
        return record_outcome(self.session, now, attempt, outcome, self.config, rng=self.rng)

    def tick(self, now):
        """Claim what is due at `now`, run each attempt and record it at `now`; returns the Recorded list."""
        return [self.finish(now, attempt) for attempt in self.claim(now)]

    def reminder(self, reminder_id):
        self.session.expire_all()
        return self.session.get(Reminder, reminder_id)

    def deliveries(self, reminder_id):
        self.session.expire_all()
        rows = self.session.scalars(select(Delivery).where(Delivery.reminder_id == reminder_id).order_by(Delivery.id)).all()
        self.session.commit()
        return rows


@pytest.fixture
def driver(session, registry, config):
    """A Driver on the test database."""
    return Driver(session, registry, config)
