"""Glue between stored reminders and the pure schedule functions: plan a reminder's next occurrence."""
from datetime import timedelta

from app.schedule import ScheduleSpec, Window, first_occurrence, next_occurrence, parse_clock, parse_duration
from app.timeutil import from_db, to_db


def spec_for(reminder) -> ScheduleSpec:
    """The ScheduleSpec of a stored reminder."""
    window = None
    if reminder.window_start and reminder.window_end:
        window = Window(
            start=parse_clock(reminder.window_start),
            end=parse_clock(reminder.window_end),
            outside=reminder.window_outside or "defer",
        )
    return ScheduleSpec(
        kind=reminder.kind,
        timezone=reminder.timezone or "UTC",
        when=from_db(reminder.when_at),
        every=parse_duration(reminder.every) if reminder.every else None,
        cron=reminder.cron,
        rrule=reminder.rrule,
        until=from_db(reminder.until_at),
        max_runs=reminder.max_runs,
        window=window,
    )


def apply_occurrence(reminder, occurrence):
    """Make `occurrence` the reminder's pending one, or complete the reminder when it is None."""
    reminder.attempt = 0
    reminder.lease_token = None
    reminder.lease_expires_at = None
    reminder.leased_by = None
    if occurrence is None:
        reminder.status = "completed"
        reminder.next_run_at = None
        reminder.occurrence_at = None
        reminder.occurrence_skip = False
        return
    reminder.next_run_at = to_db(occurrence.at)
    reminder.occurrence_at = to_db(occurrence.at)
    reminder.occurrence_skip = occurrence.skip


def plan_first(reminder, now):
    """Schedule the reminder's first occurrence from `now` (create, PATCH, resume)."""
    reminder.status = "scheduled"
    occurrence = first_occurrence(spec_for(reminder), now)
    if occurrence is not None and reminder.max_runs is not None and reminder.runs >= reminder.max_runs:
        occurrence = None
    apply_occurrence(reminder, occurrence)
    return occurrence


def plan_next(reminder, after):
    """Move a recurring reminder on to its next occurrence after `after`; completes it when none is left."""
    occurrence = next_occurrence(spec_for(reminder), after, reminder.runs)
    apply_occurrence(reminder, occurrence)
    return occurrence


def retry_settings(reminder, config):
    """(max_attempts, backoff, max_age) for a reminder, defaults from settings."""
    max_attempts = reminder.retry_max_attempts or config.DEFAULT_MAX_ATTEMPTS
    backoff = parse_duration(reminder.retry_backoff) if reminder.retry_backoff else timedelta(seconds=config.DEFAULT_BACKOFF_SECONDS)
    max_age = parse_duration(reminder.retry_max_age) if reminder.retry_max_age else timedelta(seconds=config.DEFAULT_MAX_AGE_SECONDS)
    return max_attempts, backoff, max_age


def misfire_grace(reminder, config):
    """How late an occurrence may still fire."""
    if reminder.misfire_grace:
        return parse_duration(reminder.misfire_grace)
    return timedelta(seconds=config.MISFIRE_GRACE_SECONDS)
