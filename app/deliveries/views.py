"""Delivery rows as API dicts."""
from app.timeutil import iso


def delivery_dict(delivery):
    """A Delivery as the API shows it."""
    if delivery is None:
        return None
    return {
        "id": delivery.id,
        "reminder_id": delivery.reminder_id,
        "scheduled_for": iso(delivery.scheduled_for),
        "attempt": delivery.attempt,
        "status": delivery.status,
        "manual": bool(delivery.manual),
        "started_at": iso(delivery.started_at),
        "finished_at": iso(delivery.finished_at),
        "error": delivery.error,
        "detail": delivery.detail,
    }
