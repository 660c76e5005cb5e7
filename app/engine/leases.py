"""Keeping and giving back the leases of attempts in flight."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from app.engine.attempt import Attempt
from app.models import Delivery, Reminder
from app.timeutil import to_db

STOPPED = "scheduler stopped during the attempt"


def renew_leases(session, now: datetime, attempts: list[Attempt], lease_seconds: float) -> int:
    """Extend the leases of attempts still running so a slow one is not taken over; commits.

    Returns how many leases were still held (a reminder changed through the API is not renewed).
    """
    if not attempts:
        return 0
    expires = to_db(now + timedelta(seconds=lease_seconds))
    held = 0
    for attempt in attempts:
        if attempt.manual:
            held += _update(session, update(Delivery).where(
                Delivery.id == attempt.delivery_id, Delivery.lease_token == attempt.lease_token
            ).values(lease_expires_at=expires))
        else:
            held += _update(session, update(Reminder).where(
                Reminder.id == attempt.reminder_id, Reminder.lease_token == attempt.lease_token
            ).values(lease_expires_at=expires, next_run_at=expires, updated_at=Reminder.updated_at))
            _update(session, update(Delivery).where(
                Delivery.id == attempt.delivery_id, Delivery.lease_token == attempt.lease_token, Delivery.status == "running"
            ).values(lease_expires_at=expires))
    session.commit()
    return held


def release(session, now: datetime, attempts: list[Attempt]) -> int:
    """Give back the leases of attempts that did not finish (shutdown); commits.

    A reminder becomes due at once (next_run_at = now, no lease) and the attempt's running
    row is marked failed; a manual trigger goes back to pending for the next scheduler.
    Returns how many leases were still held.
    """
    released = 0
    for attempt in attempts:
        if attempt.manual:
            released += _update(session, update(Delivery).where(
                Delivery.id == attempt.delivery_id, Delivery.lease_token == attempt.lease_token, Delivery.status == "running"
            ).values(status="pending", lease_token=None, lease_expires_at=None, scheduler_id=None, started_at=None))
            continue
        released += _update(session, update(Reminder).where(
            Reminder.id == attempt.reminder_id, Reminder.lease_token == attempt.lease_token
        ).values(lease_token=None, lease_expires_at=None, leased_by=None, next_run_at=to_db(now), updated_at=Reminder.updated_at))
        _update(session, update(Delivery).where(
            Delivery.id == attempt.delivery_id, Delivery.status == "running"
        ).values(status="failed", error=STOPPED, finished_at=to_db(now), lease_expires_at=None))
    session.commit()
    return released


def _update(session, statement):
    return session.execute(statement, execution_options={"synchronize_session": False}).rowcount
