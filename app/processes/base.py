"""The remind process contract: how one reminder occurrence reaches a person or a system."""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError


class RemindError(Exception):
    """A delivery attempt failed; the message must be short and never contain a secret."""


class RetryableError(RemindError):
    """The attempt may succeed later (timeout, connection refused, 5xx, 429)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(RemindError):
    """Retrying cannot help (bad address, rejected credentials, 4xx)."""


@dataclass
class RemindContext:
    """What a process knows about the occurrence it delivers."""

    reminder_id: int
    scheduled_for: datetime
    attempt: int = 1
    delivery_id: int | None = None
    # Stable for every attempt of one occurrence: a receiver's dedupe key (webhook-id).
    occurrence_id: str = ""
    reminder: dict[str, Any] = field(default_factory=dict)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("tifftock.process"))

    @staticmethod
    def occurrence_key(reminder_id: int, scheduled_for: datetime) -> str:
        """The identity of an occurrence: `rem_<id>_<epoch ms>`."""
        return f"rem_{reminder_id}_{int(scheduled_for.timestamp() * 1000)}"


class RemindProcess(abc.ABC):
    """Base class of every remind process.

    Contract for a subclass:
    - `name`: the unique registry name users put in a reminder's `method`.
    - `Params`: a marshmallow Schema for the per-reminder `params`; `load()` returns a dict.
      Unknown fields must be rejected (marshmallow's default RAISE).
    - `secret_params`: names of write-only params (tokens, passwords); never echoed or logged.
    - `defaults()`: params filled in from settings when a reminder leaves them out.
    - `remind(message, params, context)`: deliver once. Return a short detail (provider id,
      HTTP status) or None; raise `RetryableError` or `PermanentError` on failure. Any other
      exception counts as retryable. Must not log the message, recipients or secrets.
    - It is created once per process with the settings object and may be called from several
      threads at once, so it must be thread-safe; `close()` releases pooled resources.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type[Schema]] = Schema
    secret_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config):
        self.config = config

    def defaults(self) -> dict[str, Any]:
        """Params taken from settings when a reminder does not give them."""
        return {}

    def validate(self, params: dict | None) -> dict[str, Any]:
        """Settings defaults plus the given params, checked by `Params`; raises ValidationError."""
        if params is not None and not isinstance(params, dict):
            raise ValidationError({"params": ["Must be an object."]})
        merged = {key: value for key, value in self.defaults().items() if value not in (None, "", [])}
        merged.update(params or {})
        return self._params_schema().load(merged)

    def _params_schema(self) -> Schema:
        """One `Params` instance per process: building a schema costs more than loading with it."""
        schema = self.__dict__.get("_params_schema_instance")
        if schema is None or type(schema) is not self.Params:
            schema = self.__dict__["_params_schema_instance"] = self.Params()
        return schema

    def public_params(self, params: dict | None) -> dict[str, Any]:
        """The params as the API shows them: secrets replaced by a marker."""
        return {key: ("***" if key in self.secret_params else value) for key, value in (params or {}).items()}

    @abc.abstractmethod
    def remind(self, message: str, params: dict[str, Any], context: RemindContext) -> str | None:
        """Deliver `message` once; see the class docstring."""

    def close(self) -> None:
        """Release pooled connections."""
