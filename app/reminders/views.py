"""Reminders as API dicts, and preview occurrences."""
from app.deliveries.views import delivery_dict
from app.schedule import get_zone
from app.timeutil import from_db, iso


def reminder_dict(reminder, registry):
    """A Reminder as the API shows it; secret params masked."""
    try:
        params = registry.get(reminder.method).public_params(reminder.params)
    except LookupError:
        # A plugin that was uninstalled: show nothing rather than risk a secret.
        params = {}
    retry = retry_dict(reminder)
    return {
        "id": reminder.id,
        "message": reminder.message,
        "method": reminder.method,
        "params": params,
        "when": iso(reminder.when_at),
        "every": reminder.every,
        "cron": reminder.cron,
        "rrule": reminder.rrule,
        "until": iso(reminder.until_at),
        "max_runs": reminder.max_runs,
        "timezone": reminder.timezone,
        "window": window_dict(reminder),
        "retry": retry or None,
        "misfire_grace": reminder.misfire_grace,
        "tags": list(reminder.tags or []),
        "idempotency_key": reminder.idempotency_key,
        "status": reminder.status,
        "next_run_at": iso(reminder.next_run_at) if reminder.status == "scheduled" else None,
        "runs": reminder.runs,
        "last_delivery": delivery_dict(reminder.last_delivery),
        "created_at": iso(reminder.created_at),
        "updated_at": iso(reminder.updated_at),
    }


def window_dict(reminder):
    """The reminder's quiet-hours window as the API shows it, or None."""
    if not reminder.window_start:
        return None
    return {"start": reminder.window_start, "end": reminder.window_end, "outside": reminder.window_outside}


def retry_dict(reminder):
    """The reminder's own retry settings as the API shows them (those left to settings omitted)."""
    return {
        key: value
        for key, value in (
            ("max_attempts", reminder.retry_max_attempts),
            ("backoff", reminder.retry_backoff),
            ("max_age", reminder.retry_max_age),
        )
        if value is not None
    }


def occurrence_dict(occurrence, zone_name):
    """One preview occurrence: UTC instants plus the local wall time."""
    local = from_db(occurrence.at).astimezone(get_zone(zone_name))
    return {
        "at": iso(occurrence.at),
        "nominal": iso(occurrence.nominal),
        "local": local.isoformat(),
        "deferred": occurrence.deferred,
        "dst_shifted": occurrence.dst_shifted,
    }
