"""Manual triggers (POST /reminders/<id>/trigger): a `pending` manual delivery row, claimed and run once."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.sql.elements import BindParameter

from app.engine.attempt import Attempt
from app.engine.claim import new_token
from app.engine.deliveries import Recorded, finish_deliveries, finished_row
from app.models import Delivery, Reminder
from app.timeutil import from_db, to_db

DELETED = "the reminder was deleted before the trigger ran"


def waiting(now):
    """Manual rows waiting for a scheduler: pending, or running under an expired lease.

    `now` is a datetime or a bindparam. Written so SQLite searches ix_deliveries_manual_status
    for both statuses instead of every manual row ever made.
    """
    return and_(
        Delivery.manual.is_(True),
        Delivery.status.in_(("pending", "running")),
        or_(Delivery.status == "pending", Delivery.lease_expires_at <= (now if isinstance(now, BindParameter) else to_db(now))),
    )


def manual_waiting(session, now: datetime) -> bool:
    """Is a manual trigger waiting to be claimed? (indexed on (manual, status))."""
    found = session.scalar(select(Delivery.id).where(waiting(now)).limit(1))
    session.commit()
    return found is not None


def claim_manual(session, now: datetime, *, scheduler_id: str, lease_seconds: float, limit: int) -> list[Attempt]:
    """Claim up to `limit` waiting manual triggers as one attempt each; commits.

    A trigger whose scheduler died (running, lease expired) is taken over and run again
    (attempt + 1). The reminder's schedule is not touched. A trigger of a reminder deleted
    meanwhile is recorded failed and not run.
    """
    if limit <= 0:
        return []
    token = new_token()
    expires = to_db(now + timedelta(seconds=lease_seconds))
    due = select(Delivery.id).where(waiting(now)).order_by(Delivery.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True).cte("due_manual")
        statement = update(Delivery).where(Delivery.id == due.c.id)
    else:
        statement = update(Delivery).where(Delivery.id.in_(due.scalar_subquery()))
    rows = session.execute(
        statement.values(
            status="running",
            attempt=case((Delivery.status == "running", Delivery.attempt + 1), else_=Delivery.attempt),
            lease_token=token,
            lease_expires_at=expires,
            scheduler_id=scheduler_id,
            started_at=to_db(now),
        ).returning(Delivery.id, Delivery.reminder_id, Delivery.scheduled_for, Delivery.attempt),
        execution_options={"synchronize_session": False},
    ).all()
    if not rows:
        session.commit()
        return []
    reminders = {
        r.id: r for r in session.scalars(select(Reminder).where(Reminder.id.in_({row.reminder_id for row in rows})))
    }
    attempts, gone = [], []
    for row in rows:
        reminder = reminders.get(row.reminder_id)
        if reminder is None or reminder.deleted_at is not None:
            gone.append(row.id)
            continue
        attempts.append(Attempt.of(reminder, delivery_id=row.id, scheduled_for=from_db(row.scheduled_for),
                                   attempt=row.attempt, lease_token=token, manual=True))
    if gone:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(gone))
            .values(status="failed", error=DELETED, finished_at=to_db(now), lease_token=None, lease_expires_at=None),
            execution_options={"synchronize_session": False},
        )
    session.commit()
    return attempts


def record_manual(session, now: datetime, attempt: Attempt, outcome) -> Recorded:
    """Record a manual attempt: succeeded or failed (one attempt, no retries); commits."""
    recorded = apply_manual(session, now, attempt, outcome)
    session.commit()
    return recorded


def apply_manual(session, now: datetime, attempt: Attempt, outcome) -> Recorded:
    """Write a manual attempt's outcome in the caller's transaction.

    Only while this claim still holds the row's lease; the reminder gets last_delivery_id.
    """
    status = "succeeded" if outcome.succeeded else "failed"
    row = finished_row(attempt, outcome, status, now)
    if not finish_deliveries(session, [row], extra_where=(Delivery.__table__.c.lease_token == attempt.lease_token,)):
        return Recorded(status, stale=True)
    session.execute(
        update(Reminder)
        .where(
            Reminder.id == attempt.reminder_id,
            or_(Reminder.last_delivery_id.is_(None), Reminder.last_delivery_id < attempt.delivery_id),
        )
        .values(last_delivery_id=attempt.delivery_id, updated_at=Reminder.updated_at),
        execution_options={"synchronize_session": False},
    )
    return Recorded(status)
