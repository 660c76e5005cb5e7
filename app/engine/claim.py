"""Claiming due reminders with a lease, in one short write transaction."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.engine.attempt import Attempt, short
from app.engine.catchup import catch_up, missed_detail
from app.engine.deliveries import new_row
from app.models import Delivery, Reminder
from app.planning import apply_occurrence, misfire_grace, plan_next, spec_for
from app.schedule import format_duration
from app.timeutil import from_db, to_db

ABANDONED = "scheduler stopped during the attempt (lease expired)"


def new_token() -> str:
    """A fresh lease token."""
    return uuid.uuid4().hex


def next_due(session) -> datetime | None:
    """When the earliest scheduled reminder is due (aware UTC), or None; one indexed lookup."""
    value = session.scalar(
        select(Reminder.next_run_at)
        .where(Reminder.status == "scheduled", Reminder.next_run_at.is_not(None))
        .order_by(Reminder.next_run_at)
        .limit(1)
    )
    session.commit()
    return from_db(value)


def claim_due(session, now: datetime, *, scheduler_id: str, lease_seconds: float, limit: int, config) -> list[Attempt]:
    """Claim up to `limit` due reminders and return the attempts to run now; commits.

    One transaction: lease the due rows (an expired lease is simply due again, since
    next_run_at is the lease expiry), mark a running row abandoned by an expired lease
    failed, then per reminder either insert its `running` delivery row, or — on a first
    attempt — record a `skipped` occurrence or coalesce overdue ones (`missed`) and plan on.
    """
    if limit <= 0:
        return []
    token = new_token()
    expires = to_db(now + timedelta(seconds=lease_seconds))
    ids = _lease(session, now, token, expires, scheduler_id, limit)
    if not ids:
        session.commit()
        return []
    _mark_abandoned(session, now, set(ids), token)
    reminders = session.scalars(
        select(Reminder).where(Reminder.id.in_(ids)).execution_options(populate_existing=True)
    ).all()
    runs, notes = [], []
    for reminder in reminders:
        delivery, recorded = _prepare(session, reminder, now, token, expires, scheduler_id, config)
        if delivery is not None:
            runs.append((reminder, delivery))
        elif recorded:
            notes.append((reminder, recorded[-1]))
    session.flush()
    for reminder, row in notes:
        reminder.last_delivery_id = row.id  # the skipped / missed row is the latest word
    attempts = [
        Attempt.of(reminder, delivery_id=delivery.id, scheduled_for=from_db(reminder.occurrence_at),
                   attempt=reminder.attempt, lease_token=token)
        for reminder, delivery in runs
    ]
    session.commit()
    attempts.sort(key=lambda a: a.scheduled_for)
    return attempts


def _mark_abandoned(session, now, ids, token):
    """Mark failed the running rows of these reminders left by an earlier claim (its lease expired).

    Running rows are few at any time and ix_deliveries_manual_status finds them; going through
    each reminder's own deliveries instead would read its whole history.
    """
    running = session.execute(
        select(Delivery.id, Delivery.reminder_id, Delivery.lease_token).where(
            Delivery.manual.is_(False), Delivery.status == "running"
        )
    ).all()
    abandoned = [row.id for row in running if row.reminder_id in ids and row.lease_token != token]
    if abandoned:
        session.execute(
            update(Delivery).where(Delivery.id.in_(abandoned), Delivery.status == "running")
            .values(status="failed", error=ABANDONED, finished_at=to_db(now)),
            execution_options={"synchronize_session": False},
        )


def _lease(session, now, token, expires, scheduler_id, limit):
    """UPDATE … RETURNING the ids of up to `limit` due reminders, now leased to `token`."""
    due = (
        select(Reminder.id)
        .where(Reminder.status == "scheduled", Reminder.next_run_at <= to_db(now))
        .order_by(Reminder.next_run_at)
        .limit(limit)
    )
    values = {
        "lease_token": token,
        "lease_expires_at": expires,
        "next_run_at": expires,  # a lease nobody completes makes the reminder due again
        "attempt": Reminder.attempt + 1,
        "leased_by": scheduler_id,
        "updated_at": Reminder.updated_at,  # a claim is not a change; misfire reads updated_at
    }
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True).cte("due")
        statement = update(Reminder).where(Reminder.id == due.c.id)
    else:  # SQLite: the transaction is BEGIN IMMEDIATE, so nobody else writes meanwhile
        statement = update(Reminder).where(Reminder.id.in_(due.scalar_subquery()))
    result = session.execute(
        statement.values(**values).returning(Reminder.id), execution_options={"synchronize_session": False}
    )
    return list(result.scalars())


def _prepare(session, reminder, now, token, expires, scheduler_id, config):
    """(the running Delivery for a leased reminder or None, the skipped/missed rows recorded)."""
    recorded = []
    if reminder.attempt == 1:
        grace = misfire_grace(reminder, config)
        pending = from_db(reminder.occurrence_at)
        result = catch_up(spec_for(reminder), pending, reminder.occurrence_skip, from_db(reminder.updated_at), now, grace)
        if reminder.occurrence_skip:
            recorded.append(new_row(reminder, now, pending, "skipped", detail="outside the window (outside: skip)"))
        if result.missed:
            detail = short(missed_detail(result, format_duration(grace)))
            recorded.append(new_row(reminder, now, result.first_missed, "missed", detail=detail))
        session.add_all(recorded)
        if result.fire is None:
            reminder.updated_at = to_db(now)
            if reminder.kind == "once" and result.missed:
                apply_occurrence(reminder, None)
                reminder.status = "failed"  # its only occurrence was missed
            else:
                plan_next(reminder, result.last_seen)
            if reminder.status in ("completed", "failed"):
                reminder.finished_at = to_db(now)
            return None, recorded
        if result.fire != pending:
            reminder.occurrence_at = to_db(result.fire)
            reminder.occurrence_skip = False
            reminder.updated_at = to_db(now)
    delivery = new_row(reminder, now, from_db(reminder.occurrence_at), "running", attempt=reminder.attempt)
    delivery.lease_token = token
    delivery.lease_expires_at = expires
    delivery.scheduler_id = scheduler_id
    session.add(delivery)
    return delivery, recorded

