"""Recording what an attempt came to, in one short transaction guarded by the lease token."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from app.engine.attempt import Attempt, Outcome
from app.engine.deliveries import Recorded, finish_delivery
from app.engine.triggers import record_manual
from app.models import Reminder
from app.planning import apply_occurrence, plan_next, retry_settings
from app.timeutil import from_db, to_db

JITTER = 0.2  # ±20 % on computed backoff
MAX_RETRY_AFTER = 86400.0  # a process's retry_after is capped at a day
_MAX_EXPONENT = 40


def retry_delay(attempt: int, backoff: timedelta, retry_after: float | None = None, *, rng=random, jitter=JITTER) -> timedelta:
    """The wait before the next attempt: `retry_after` when the process gave one (capped),
    else backoff · 2^(attempt−1) with ±jitter drawn from `rng.uniform`."""
    if retry_after is not None:
        return timedelta(seconds=min(max(float(retry_after), 0.0), MAX_RETRY_AFTER))
    seconds = backoff.total_seconds() * 2 ** min(max(attempt - 1, 0), _MAX_EXPONENT)
    seconds *= rng.uniform(1 - jitter, 1 + jitter)
    return timedelta(seconds=min(seconds, 10 * 365 * 86400))


def record_outcome(session, now: datetime, attempt: Attempt, outcome: Outcome, config, *, rng=random) -> Recorded:
    """Record an attempt's outcome (its delivery row by id; the reminder only under its lease token); commits.

    A stale attempt (the lease was taken over, or the reminder paused, changed or deleted
    meanwhile) still records what happened on its delivery row but leaves the reminder alone.
    """
    if attempt.manual:
        return record_manual(session, now, attempt, outcome)
    reminder = session.scalars(
        select(Reminder)
        .where(Reminder.id == attempt.reminder_id, Reminder.lease_token == attempt.lease_token)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if reminder is None:
        status = "succeeded" if outcome.succeeded else "failed"
        finish_delivery(session, now, attempt, outcome, status)
        session.commit()
        return Recorded(status, stale=True)

    occurrence = from_db(reminder.occurrence_at)
    reminder.updated_at = to_db(now)
    if outcome.succeeded:
        status = "succeeded"
        reminder.runs = (reminder.runs or 0) + 1
        reminder.last_delivery_id = attempt.delivery_id
        plan_next(reminder, occurrence)
    else:
        max_attempts, backoff, max_age = retry_settings(reminder, config)
        next_try = None
        if outcome.kind == "retryable" and reminder.attempt < max_attempts:
            next_try = now + retry_delay(reminder.attempt, backoff, outcome.retry_after, rng=rng)
            if next_try > occurrence + max_age:
                next_try = None
        reminder.last_delivery_id = attempt.delivery_id
        if next_try is not None:
            status = "retrying"
            reminder.next_run_at = to_db(next_try)
            reminder.lease_token = reminder.lease_expires_at = reminder.leased_by = None
        else:
            status = "failed"
            if reminder.kind == "once":
                apply_occurrence(reminder, None)
                reminder.status = "failed"
            else:
                plan_next(reminder, occurrence)
    if reminder.status in ("completed", "failed"):
        reminder.finished_at = to_db(now)
    finish_delivery(session, now, attempt, outcome, status)
    session.commit()
    return Recorded(status, reminder_status=reminder.status, next_run_at=from_db(reminder.next_run_at))

