"""An attempt in flight and what came of it; `run_attempt` calls the remind process (no DB, no clock)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from app.processes import PermanentError, RemindContext, RetryableError

MAX_TEXT = 500
PROCESS_LOGGER = logging.getLogger("tifftock.process")


def short(text, limit=MAX_TEXT):
    """`text` cut to `limit` characters (None passes through)."""
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Attempt:
    """One claimed attempt: everything a worker needs, detached from any session."""

    delivery_id: int
    reminder_id: int
    scheduled_for: datetime  # aware UTC: the occurrence
    attempt: int
    lease_token: str
    method: str
    message: str = field(repr=False)
    params: dict[str, Any] = field(repr=False, default_factory=dict)
    manual: bool = False
    tags: tuple[str, ...] = ()
    owner: str = ""

    @classmethod
    def of(cls, reminder, *, delivery_id, scheduled_for, attempt, lease_token, manual=False):
        """The attempt of a loaded Reminder row."""
        return cls(
            delivery_id=delivery_id,
            reminder_id=reminder.id,
            scheduled_for=scheduled_for,
            attempt=attempt,
            lease_token=lease_token,
            method=reminder.method,
            message=reminder.message,
            params=dict(reminder.params or {}),
            manual=manual,
            tags=tuple(reminder.tags or ()),
            owner=reminder.owner,
        )

    @property
    def occurrence_id(self):
        """The occurrence's stable identity (the webhook-id)."""
        return RemindContext.occurrence_key(self.reminder_id, self.scheduled_for)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: kind is succeeded | retryable | permanent."""

    kind: str
    detail: str | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def succeeded(self):
        return self.kind == "succeeded"


def run_attempt(attempt: Attempt, registry, logger: logging.Logger = PROCESS_LOGGER) -> Outcome:
    """Deliver once through the reminder's process and classify the result; never raises.

    A RemindError's message is short and secret-free by the process contract, so it is kept;
    any other exception is retryable and only its class name is kept (its text may hold secrets).
    """
    try:
        process = registry.get(attempt.method)
    except LookupError:
        return Outcome("permanent", error=short(f"unknown remind process {attempt.method!r}"))
    context = RemindContext(
        reminder_id=attempt.reminder_id,
        scheduled_for=attempt.scheduled_for,
        attempt=attempt.attempt,
        delivery_id=attempt.delivery_id,
        occurrence_id=attempt.occurrence_id,
        reminder={"id": attempt.reminder_id, "method": attempt.method, "tags": list(attempt.tags), "owner": attempt.owner},
        logger=logger,
    )
    try:
        params = process.validate(attempt.params)
        detail = process.remind(attempt.message, params, context)
    except PermanentError as exc:
        return Outcome("permanent", error=short(str(exc) or type(exc).__name__))
    except RetryableError as exc:
        return Outcome("retryable", error=short(str(exc) or type(exc).__name__), retry_after=exc.retry_after)
    except ValidationError:
        return Outcome("permanent", error="params are not valid for this process")
    except Exception as exc:  # noqa: BLE001 - any other failure of a plugin is retryable
        return Outcome("retryable", error=type(exc).__name__)
    return Outcome("succeeded", detail=short(detail) if detail is not None else None)

