"""Turning validated request data into stored reminders: schedule, params, ownership."""
import dataclasses
from datetime import datetime

from flask import current_app, g
from marshmallow import ValidationError

from app.errors import ApiError, ValidationFailed
from app.extensions import db
from app.models import Reminder
from app.paging import MAX_ID
from app.planning import plan_first, spec_for
from app.schedule import (
    ScheduleError,
    format_duration,
    get_zone,
    localize,
    occurrences,
    parse_clock,
    parse_duration,
    to_instant,
    validate,
)
from app.reminders.views import retry_dict, window_dict
from app.timeutil import from_db, to_db

SCHEDULE_FIELDS = ("when", "every", "cron", "rrule")
# Fields that move occurrences: a PATCH naming one replans; any other PATCH keeps the pending occurrence.
TIMING_FIELDS = SCHEDULE_FIELDS + ("until", "max_runs", "timezone", "window")
DURATION_FIELDS = ("every", "misfire_grace")
# Occurrences of a cron or RRULE looked at to find its shortest gap.
RHYTHM_SAMPLE = 50


def registry():
    """The app's remind-process registry."""
    return current_app.extensions["tifftock_processes"]


def scoped_reminder(reminder_id):
    """The caller's reminder with this id, or 404 (another key's reminder does not exist for it)."""
    if not 0 < reminder_id <= MAX_ID:
        raise ApiError(404, f"No reminder with id {reminder_id}")
    query = db.select(Reminder).where(Reminder.id == reminder_id, Reminder.deleted_at.is_(None))
    if not g.is_admin:
        query = query.where(Reminder.owner == g.owner)
    reminder = db.session.scalars(query).one_or_none()
    if reminder is None:
        raise ApiError(404, f"No reminder with id {reminder_id}")
    return reminder


def schedule_kind(data):
    """once | every | cron | rrule from the given fields; 422 naming them when it is ambiguous."""
    given = [name for name in ("every", "cron", "rrule") if data.get(name)]
    if len(given) > 1:
        raise ValidationFailed({name: [f"Give only one of every, cron, rrule (got {', '.join(given)})."] for name in given})
    if given:
        return given[0]
    if data.get("when"):
        return "once"
    raise ValidationFailed({"when": ["Give when (one-off) or one of every, cron, rrule."]})


def _kind_or_none(data):
    """The schedule kind of `data`, or None when it has none or several."""
    try:
        return schedule_kind(data)
    except ValidationFailed:
        return None


def _switches_method(data, reminder):
    """Does this PATCH move the reminder to another remind process?"""
    if not data.get("method"):
        return False
    try:
        return registry().resolve_name(data["method"]) != reminder.method
    except LookupError:
        return True


def merged_values(reminder, data, creating):
    """The request data over the stored values (PATCH), without what a change of kind or method made stale."""
    if creating:
        return dict(data)
    merged = current_values(reminder)
    merged.update(data)
    if any(name in data for name in SCHEDULE_FIELDS):
        # A PATCH that names a schedule kind replaces the old kind rather than adding a second one.
        for name in ("every", "cron", "rrule"):
            if name not in data and any(data.get(other) for other in ("every", "cron", "rrule")):
                merged[name] = None
        if "when" not in data and _kind_or_none(merged) != reminder.kind:
            # The old `when` meant something else for the old kind (a one-off's time, an interval's
            # anchor): a new kind starts from now unless the PATCH gives its own `when`.
            merged.pop("when", None)
    switching = _switches_method(data, reminder)
    if "params" not in data and switching:
        # The old process's params would fail the new one's schema: start from its settings defaults.
        merged["params"] = {}
    elif isinstance(data.get("params"), dict) and not switching:
        merged["params"] = keep_masked_secrets(reminder, data["params"])
    return merged


def keep_masked_secrets(reminder, params):
    """Params of a PATCH where a value still equal to its masked form ("***") keeps the stored secret.

    Clients GET a reminder, edit it and PATCH it back; the mask must not replace the secret.
    """
    try:
        shown = registry().get(reminder.method).public_params(reminder.params)
    except LookupError:
        return params
    stored = reminder.params or {}
    return {
        key: stored[key] if key in stored and value == shown.get(key) and shown.get(key) != stored[key] else value
        for key, value in params.items()
    }


def shortest_gap(spec, now):
    """The shortest time between the first occurrences of a recurrence, read in UTC so DST cannot shorten it."""
    plain = dataclasses.replace(spec, timezone="UTC", window=None, until=None, max_runs=None)
    found = [o.at for o in occurrences(plain, now, RHYTHM_SAMPLE)]
    return min((later - earlier for earlier, later in zip(found, found[1:])), default=None)


def check_rhythm(spec, config, now):
    """422 when a cron or RRULE fires more often than MIN_INTERVAL_SECONDS (as `every` may not)."""
    if spec.kind not in ("cron", "rrule"):
        return
    gap = shortest_gap(spec, now)
    if gap is not None and gap.total_seconds() < config.MIN_INTERVAL_SECONDS:
        message = f"Fires {int(gap.total_seconds())} s apart; at least {config.MIN_INTERVAL_SECONDS} s are needed."
        raise ValidationFailed({spec.kind: [message]})


def apply_fields(reminder, data, config, now, *, creating):
    """Copy validated request data onto `reminder` and plan its next run; raises ValidationFailed."""
    errors = {}
    merged = merged_values(reminder, data, creating)
    kind = schedule_kind(merged)
    zone_name = merged.get("timezone") or config.DEFAULT_TIMEZONE
    try:
        get_zone(zone_name)
    except ScheduleError as exc:
        raise ValidationFailed({"timezone": [exc.message]}) from None

    for name in ("when", "until"):
        if merged.get(name):
            try:
                merged[name + "_at"] = to_instant(merged[name], zone_name)
            except ValueError as exc:
                errors[name] = [str(exc)]
    for name in DURATION_FIELDS:
        if merged.get(name):
            try:
                merged[name] = format_duration(parse_duration(merged[name]))
            except ValueError as exc:
                errors[name] = [str(exc)]
    retry = merged.get("retry") or {}
    for name in ("backoff", "max_age"):
        if retry.get(name):
            try:
                retry[name] = format_duration(parse_duration(retry[name]))
            except ValueError as exc:
                errors.setdefault("retry", {})[name] = [str(exc)]
    window = merged.get("window")
    if window:
        for name in ("start", "end"):
            try:
                parse_clock(window[name])
            except ValueError as exc:
                errors.setdefault("window", {})[name] = [str(exc)]
    if kind == "every" and "every" not in errors:
        seconds = parse_duration(merged["every"]).total_seconds()
        if seconds < config.MIN_INTERVAL_SECONDS:
            errors["every"] = [f"Must be at least {config.MIN_INTERVAL_SECONDS} seconds."]

    method = merged.get("method") or config.DEFAULT_METHOD
    try:
        # Store the canonical name ("api" -> "webhook") so the method filter finds every alias.
        method = registry().resolve_name(method)
        registry().get(method).validate(merged.get("params") or {})
    except LookupError:
        errors["method"] = [f"Unknown remind process {method!r}; see GET /processes."]
    except ValidationError as exc:
        errors["params"] = exc.messages
    if errors:
        raise ValidationFailed(errors)

    reminder.message = merged["message"]
    reminder.method = method
    reminder.params = merged.get("params") or {}
    reminder.kind = kind
    reminder.timezone = zone_name
    when_at = merged.get("when_at")
    if when_at is None and kind in ("every", "rrule"):
        # Anchor the interval grid / RRULE start once, so later runs keep the same rhythm.
        when_at = now.replace(second=0, microsecond=0) if kind == "rrule" else now
    reminder.when_at = to_db(when_at)
    reminder.every = merged.get("every") if kind == "every" else None
    reminder.cron = merged.get("cron") if kind == "cron" else None
    reminder.rrule = merged.get("rrule") if kind == "rrule" else None
    reminder.until_at = to_db(merged.get("until_at"))
    reminder.max_runs = merged.get("max_runs")
    reminder.window_start = window["start"] if window else None
    reminder.window_end = window["end"] if window else None
    reminder.window_outside = window.get("outside", "defer") if window else None
    reminder.retry_max_attempts = retry.get("max_attempts")
    reminder.retry_backoff = retry.get("backoff")
    reminder.retry_max_age = retry.get("max_age")
    reminder.misfire_grace = merged.get("misfire_grace")
    tags = merged.get("tags") or []
    reminder.tags = list(dict.fromkeys(tags))
    reminder.tags_text = "," + ",".join(reminder.tags) + "," if reminder.tags else ""

    spec = spec_for(reminder)
    try:
        validate(spec)
    except ScheduleError as exc:
        raise ValidationFailed({exc.field: [exc.message]}) from None
    check_rhythm(spec, config, now)
    replan = creating or any(name in data for name in TIMING_FIELDS)
    if replan and reminder.status in (None, "scheduled", "completed", "failed"):
        # A paused reminder is planned when it resumes; an untimed edit keeps a due occurrence due.
        plan_first(reminder, now)
    return reminder


def when_gap_shifted(data, reminder):
    """Did a one-off's `when`, given as a wall time, fall in a DST gap and move? Only the request text tells."""
    if reminder.kind != "once" or not data.get("when"):
        return False
    wall = datetime.fromisoformat(data["when"].strip())  # already parsed once by apply_fields
    return wall.tzinfo is None and localize(wall, get_zone(reminder.timezone))[1]


def current_values(reminder):
    """The stored reminder as request-shaped data, so a PATCH can merge into it."""
    values = {
        "message": reminder.message,
        "method": reminder.method,
        "params": dict(reminder.params or {}),
        "timezone": reminder.timezone,
        "every": reminder.every,
        "cron": reminder.cron,
        "rrule": reminder.rrule,
        "max_runs": reminder.max_runs,
        "misfire_grace": reminder.misfire_grace,
        "tags": list(reminder.tags or []),
    }
    if reminder.when_at:
        values["when"] = from_db(reminder.when_at).isoformat()
    if reminder.until_at:
        values["until"] = from_db(reminder.until_at).isoformat()
    if reminder.window_start:
        values["window"] = window_dict(reminder)
    retry = retry_dict(reminder)
    if retry:
        values["retry"] = retry
    return values


def new_reminder(data, owner, config, now):
    """A new, validated, planned (not yet added) reminder."""
    reminder = Reminder(owner=owner, status="scheduled", runs=0, attempt=0, idempotency_key=data.get("idempotency_key"))
    return apply_fields(reminder, data, config, now, creating=True)


__all__ = ["apply_fields", "new_reminder", "registry", "scoped_reminder"]
