"""Conversions between aware UTC datetimes and the naive UTC values stored in the database."""
from datetime import datetime, timezone


def utcnow():
    """The current instant, aware UTC. Only entry points (routes, scheduler.py) call this."""
    return datetime.now(timezone.utc)


def to_db(value):
    """Aware datetime -> naive UTC for storage (None passes through)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def from_db(value):
    """Naive UTC from storage -> aware UTC (None passes through)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    return value.replace(tzinfo=timezone.utc)


def iso(value):
    """Aware or stored datetime -> ISO 8601 string in UTC with `Z`."""
    if value is None:
        return None
    value = from_db(value)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
