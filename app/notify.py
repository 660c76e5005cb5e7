"""On PostgreSQL, tell sleeping schedulers (LISTEN) that reminders changed; SQLite schedulers poll."""
from flask_sqlalchemy.session import Session as ApiSession
from sqlalchemy import event, text

from app.models import Delivery, Reminder

CHANNEL = "tifftock_reminders"


def install_notify():
    """Send NOTIFY in the same transaction as any API change to reminders or manual triggers.

    Only the API's sessions (Flask-SQLAlchemy's class) notify: the scheduler's own writes must not wake it.
    """
    if event.contains(ApiSession, "after_flush", _mark):
        return
    event.listen(ApiSession, "after_flush", _mark)
    event.listen(ApiSession, "before_commit", _notify)


def _mark(session, _context):
    """Remember that this transaction changed something a scheduler cares about."""
    changed = list(session.new) + list(session.dirty)
    if any(isinstance(obj, Reminder) or (isinstance(obj, Delivery) and obj.manual) for obj in changed):
        session.info["tifftock_notify"] = True


def _notify(session):
    """NOTIFY is delivered when the transaction commits, so listeners never see uncommitted rows."""
    session.flush()  # before_commit runs before commit's own flush; flush now so _mark has seen the changes
    if session.info.pop("tifftock_notify", False) and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

