"""Heartbeats and pruning."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from app.models import Delivery, Reminder, SchedulerHeartbeat
from app.timeutil import to_db

FINISHED = ("completed", "failed", "cancelled")
HEARTBEAT_RETENTION = timedelta(days=1)
PRUNE_BATCH = 500
KINDS = ("deliveries", "reminders", "heartbeats")


def beat(session, now: datetime, *, scheduler_id: str, hostname: str = "", pid: int = 0, started_at: datetime | None = None) -> None:
    """Upsert this scheduler's heartbeat row (seen_at = now); commits."""
    seen = to_db(now)
    updated = session.execute(
        update(SchedulerHeartbeat).where(SchedulerHeartbeat.scheduler_id == scheduler_id).values(seen_at=seen),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not updated:
        session.add(SchedulerHeartbeat(
            scheduler_id=scheduler_id, hostname=hostname[:255], pid=pid, started_at=to_db(started_at or now), seen_at=seen
        ))
    session.commit()


def forget(session, scheduler_id: str) -> None:
    """Remove this scheduler's heartbeat row (a clean exit); commits."""
    session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.scheduler_id == scheduler_id))
    session.commit()


def prune(session, now: datetime, config, *, batch: int = PRUNE_BATCH) -> dict[str, int]:
    """Delete everything the retention settings let go, one `prune_step` after another; returns the counts."""
    total = dict.fromkeys(KINDS, 0)
    while True:
        step = prune_step(session, now, config, batch=batch)
        if not any(step.values()):
            return total
        for kind, count in step.items():
            total[kind] += count


def prune_step(session, now: datetime, config, *, batch: int = PRUNE_BATCH) -> dict[str, int]:
    """Delete at most `batch` rows of one kind in one short transaction; commits. All zero: nothing is left.

    - deliveries created more than RETENTION_DELIVERIES_DAYS ago (not ones still pending/running);
    - completed, failed and cancelled reminders last updated more than RETENTION_REMINDERS_DAYS
      ago, with their deliveries (those first, so a reminder with many attempts goes in batches too);
    - heartbeat rows not seen for a day.
    A retention of 0 keeps those rows forever.
    """
    counts = dict.fromkeys(KINDS, 0)
    for kind, model, ids_query in _prunable(now, config):
        ids = list(session.scalars(ids_query.limit(batch)))
        if ids:
            session.execute(delete(model).where(model.id.in_(ids)), execution_options={"synchronize_session": False})
            session.commit()
            counts[kind] = len(ids)
            return counts
    counts["heartbeats"] = session.execute(
        delete(SchedulerHeartbeat).where(SchedulerHeartbeat.seen_at < to_db(now - HEARTBEAT_RETENTION))
    ).rowcount
    session.commit()
    return counts


def _prunable(now, config):
    """(kind, model, query of ids to delete) in the order they are pruned."""
    if config.RETENTION_DELIVERIES_DAYS > 0:
        cutoff = to_db(now - timedelta(days=config.RETENTION_DELIVERIES_DAYS))
        yield "deliveries", Delivery, select(Delivery.id).where(
            Delivery.created_at < cutoff, Delivery.status.not_in(("pending", "running"))
        )
    if config.RETENTION_REMINDERS_DAYS > 0:
        cutoff = to_db(now - timedelta(days=config.RETENTION_REMINDERS_DAYS))
        finished = select(Reminder.id).where(Reminder.status.in_(FINISHED), Reminder.updated_at < cutoff)
        yield "deliveries", Delivery, select(Delivery.id).where(Delivery.reminder_id.in_(finished.scalar_subquery()))
        yield "reminders", Reminder, finished
