"""Recording what an attempt came to, in one short transaction guarded by the lease token."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from app.engine.attempt import Attempt, Outcome
from app.engine.deliveries import Recorded, finish_deliveries, finished_row
from app.engine.triggers import apply_manual
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
    """Record one attempt's outcome at `now`; see `record_outcomes`. Commits."""
    return record_outcomes(session, [(attempt, outcome, now)], config, rng=rng)[0]


def record_outcomes(session, results, config, *, rng=random) -> list[Recorded]:
    """Record `(attempt, outcome, finished_at)` results in one short transaction; commits.

    Each delivery row is written by its id; a reminder is changed only while it still
    holds the attempt's lease token. A stale attempt (the lease was taken over, or the
    reminder was paused, re-timed or deleted meanwhile) still records what happened on
    its delivery row but leaves the reminder alone. Success: runs + 1 and the next
    occurrence (a one-off completes). Failure: a retry with backoff while attempts and
    max_age allow, else the occurrence fails (a one-off fails, a recurring one goes on).
    """
    reminders = {}
    ids = {attempt.reminder_id for attempt, _outcome, _now in results if not attempt.manual}
    if ids:
        rows = session.scalars(
            select(Reminder).where(Reminder.id.in_(ids)).with_for_update().execution_options(populate_existing=True)
        )
        reminders = {reminder.id: reminder for reminder in rows}
    recorded, finished = [], []
    for attempt, outcome, now in results:
        if attempt.manual:
            recorded.append(apply_manual(session, now, attempt, outcome))
            continue
        reminder = reminders.get(attempt.reminder_id)
        if reminder is None or reminder.lease_token != attempt.lease_token:
            status = "succeeded" if outcome.succeeded else "failed"
            recorded.append(Recorded(status, stale=True))
        else:
            status = _apply(reminder, attempt, outcome, now, config, rng)
            recorded.append(Recorded(status, reminder_status=reminder.status, next_run_at=from_db(reminder.next_run_at)))
        finished.append(finished_row(attempt, outcome, status, now))
    session.flush()
    finish_deliveries(session, finished)
    session.commit()
    return recorded


def _apply(reminder, attempt, outcome, now, config, rng):
    """Move the leased reminder on after the attempt; returns the delivery row's status."""
    occurrence = from_db(reminder.occurrence_at)
    reminder.updated_at = to_db(now)
    reminder.last_delivery_id = attempt.delivery_id
    if outcome.succeeded:
        status = "succeeded"
        reminder.runs = (reminder.runs or 0) + 1
        plan_next(reminder, occurrence)
    else:
        max_attempts, backoff, max_age = retry_settings(reminder, config)
        next_try = None
        if outcome.kind == "retryable" and reminder.attempt < max_attempts:
            next_try = now + retry_delay(reminder.attempt, backoff, outcome.retry_after, rng=rng)
            if next_try > occurrence + max_age:
                next_try = None
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
    return status
