"""Writing Delivery rows: new rows at claim time and outcomes onto them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update

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


def finished_row(attempt, outcome, status, now):
    """The values `finish_deliveries` writes onto an attempt's delivery row."""
    return {
        "b_id": attempt.delivery_id,
        "b_status": status,
        "b_finished_at": to_db(now),
        "b_error": None if outcome.succeeded else outcome.error,
        "b_detail": outcome.detail,
    }


_FINISH = (
    update(Delivery.__table__)
    .where(Delivery.__table__.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        finished_at=bindparam("b_finished_at"),
        error=bindparam("b_error"),
        detail=bindparam("b_detail"),
        lease_expires_at=None,
    )
)


def finish_deliveries(session, rows, *, extra_where=()):
    """Write outcomes (`finished_row` dicts) onto their delivery rows by id, in one executemany;
    returns how many rows matched (with `extra_where`, e.g. a lease token, for a single row)."""
    if not rows:
        return 0
    statement = _FINISH.where(*extra_where) if extra_where else _FINISH
    return session.connection().execute(statement, rows if len(rows) > 1 else rows[0]).rowcount
