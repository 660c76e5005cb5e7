"""The scheduler's cheap look at the database: one round trip, indexed lookups only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select

from app.engine.triggers import waiting
from app.models import Reminder
from app.timeutil import from_db, to_db

_NOW = bindparam("now")
# Built once: the poll runs a few times a second for the life of the process.
_PEEK = select(
    select(Reminder.next_run_at)
    .where(Reminder.status == "scheduled", Reminder.next_run_at.is_not(None))
    .order_by(Reminder.next_run_at)
    .limit(1)
    .scalar_subquery(),
    exists().where(waiting(_NOW)),
)


@dataclass(frozen=True)
class Peek:
    """When the earliest scheduled reminder is due (aware UTC or None), and whether a manual trigger waits."""

    next_due: datetime | None
    manual_waiting: bool


def peek(session, now: datetime) -> Peek:
    """Both things the scheduler polls for, in one statement (ix_reminders_due, ix_deliveries_manual_status); commits."""
    due, manual = session.execute(_PEEK, {"now": to_db(now)}).one()
    session.commit()
    return Peek(from_db(due), bool(manual))
