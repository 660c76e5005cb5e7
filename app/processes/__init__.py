"""Remind processes: the base class, the registry and the built-in channels."""
from app.processes.base import PermanentError, RemindContext, RemindError, RemindProcess, RetryableError
from app.processes.registry import ProcessRegistry, ProcessRegistryError

__all__ = [
    "PermanentError",
    "ProcessRegistry",
    "ProcessRegistryError",
    "RemindContext",
    "RemindError",
    "RemindProcess",
    "RetryableError",
]
