"""Writing Delivery rows: new rows at claim time and outcomes onto them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from app.models import Delivery
from app.timeutil import to_db


@dataclass(frozen=True)
class Recorded:
    """What recording an outcome did: the delivery row's status, and for the reminder (None when stale)."""

    delivery_status: str
    stale: bool = False
    reminder_status: str | None = None
    next_run_at: datetime | None = None  # aware UTC: when the reminder is due next


def new_row(reminder, now, scheduled_for, status, *, attempt=0, detail=None):
    """A Delivery row of `reminder` created at `now` (attempt 0: nothing was attempted)."""
    running = status == "running"
    return Delivery(
        reminder_id=reminder.id,
        owner=reminder.owner,
        scheduled_for=to_db(scheduled_for),
        attempt=attempt,
        status=status,
        started_at=to_db(now) if running else None,
        finished_at=None if running else to_db(now),
        detail=detail,
        manual=False,
        created_at=to_db(now),
    )


def finish_delivery(session, now, attempt, outcome, status, *, extra_where=()):
    """Write an outcome onto the attempt's delivery row (by id); returns how many rows matched."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == attempt.delivery_id, *extra_where)
        .values(
            status=status,
            finished_at=to_db(now),
            error=None if outcome.succeeded else outcome.error,
            detail=outcome.detail,
            lease_expires_at=None,
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
