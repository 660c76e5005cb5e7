"""Database models: reminders, their delivery attempts, scheduler heartbeats and API keys.

All datetimes are stored as naive UTC (see `app.timeutil`).
"""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import to_db, utcnow

REMINDER_STATUSES = ("scheduled", "paused", "completed", "failed", "cancelled")
DELIVERY_STATUSES = ("pending", "running", "succeeded", "failed", "retrying", "skipped", "missed")
ADMIN_OWNER = "admin"


def _now():
    return to_db(utcnow())


class Reminder(db.Model):
    """A message to deliver through a remind process on a schedule."""

    __tablename__ = "reminders"
    __table_args__ = (
        # The scheduler's due query: status = 'scheduled' AND next_run_at <= now ORDER BY next_run_at.
        Index("ix_reminders_due", "status", "next_run_at"),
        Index("ix_reminders_owner_id", "owner", "id"),
        # The per-key quota count (live reminders of one owner) without visiting finished ones.
        Index("ix_reminders_owner_status", "owner", "status", "deleted_at"),
        UniqueConstraint("owner", "idempotency_key", name="uq_reminders_owner_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), default=ADMIN_OWNER)
    message: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)

    # Schedule: exactly one kind; see app.schedule.ScheduleSpec.
    kind: Mapped[str] = mapped_column(String(8))  # once | every | cron | rrule
    when_at: Mapped[datetime | None] = mapped_column(DateTime)
    every: Mapped[str | None] = mapped_column(String(64))
    cron: Mapped[str | None] = mapped_column(String(255))
    rrule: Mapped[str | None] = mapped_column(Text)
    until_at: Mapped[datetime | None] = mapped_column(DateTime)
    max_runs: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    window_start: Mapped[str | None] = mapped_column(String(5))
    window_end: Mapped[str | None] = mapped_column(String(5))
    window_outside: Mapped[str | None] = mapped_column(String(8))
    retry_max_attempts: Mapped[int | None] = mapped_column(Integer)
    retry_backoff: Mapped[str | None] = mapped_column(String(64))
    retry_max_age: Mapped[str | None] = mapped_column(String(64))
    misfire_grace: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    # ",tag1,tag2," so a tag filter is a plain LIKE on both databases.
    tags_text: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(255))

    # State.
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # When the scheduler must act next: the occurrence, a retry, or a lease expiry.
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The pending occurrence (its identity with the id) and what is known of it.
    occurrence_at: Mapped[datetime | None] = mapped_column(DateTime)
    occurrence_skip: Mapped[bool] = mapped_column(Boolean, default=False)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    # A claim: whoever holds lease_token may record the outcome until lease_expires_at.
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    leased_by: Mapped[str | None] = mapped_column(String(128))
    last_delivery_id: Mapped[int | None] = mapped_column(Integer)

    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    deliveries = relationship("Delivery", back_populates="reminder", cascade="all, delete-orphan", passive_deletes=True)
    # Read-only: the engine sets last_delivery_id; lists load these for a whole page in one query.
    last_delivery = relationship("Delivery", primaryjoin="foreign(Reminder.last_delivery_id) == Delivery.id", viewonly=True)


class Delivery(db.Model):
    """One attempt to deliver one occurrence of a reminder."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_reminder_id", "reminder_id", "id"),
        Index("ix_deliveries_owner_id", "owner", "id"),
        Index("ix_deliveries_created_at", "created_at"),
        # The scheduler's query for manual triggers: manual AND status IN ('pending', 'running').
        Index("ix_deliveries_manual_status", "manual", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(String(64), default=ADMIN_OWNER)
    scheduled_for: Mapped[datetime] = mapped_column(DateTime)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[str | None] = mapped_column(String(500))
    # A manual trigger (POST /reminders/<id>/trigger): one attempt, claimed by its own row.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    scheduler_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)

    reminder = relationship("Reminder", back_populates="deliveries")


class SchedulerHeartbeat(db.Model):
    """The last sign of life of one scheduler process."""

    __tablename__ = "scheduler_heartbeats"

    scheduler_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=_now, index=True)


class ApiKey(db.Model):
    """A named API key; only a hash of the key is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
