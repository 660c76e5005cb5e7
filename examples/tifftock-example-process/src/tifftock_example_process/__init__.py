"""An example TiffTock remind process: each occurrence becomes one line of a JSON Lines file."""
import errno
import json
import os
import threading

from marshmallow import Schema, fields, validate

from app.processes.base import PermanentError, RemindProcess, RetryableError

__all__ = ["JsonLinesProcess"]


class JsonLinesParams(Schema):
    """Per-reminder parameters: an optional label copied into each line."""

    label = fields.String(load_default="", validate=validate.Length(max=100))


class JsonLinesProcess(RemindProcess):
    """Appends {occurrence_id, reminder_id, scheduled_for, attempt, label, message} to JSONL_PATH."""

    name = "jsonl"
    description = "Append each reminder to the JSON Lines file named by the JSONL_PATH setting."
    Params = JsonLinesParams

    def __init__(self, config):
        super().__init__(config)
        # TiffTock's Config knows nothing of this plugin: read our setting from it when a
        # test sets it there, else from the environment.
        self.path = getattr(config, "JSONL_PATH", None) or os.environ.get("JSONL_PATH", "")
        self._lock = threading.Lock()  # remind() runs in several worker threads

    def remind(self, message, params, context):
        if not self.path:
            raise PermanentError("jsonl is not configured: set JSONL_PATH")
        line = json.dumps(
            {
                # Same on every retry of an occurrence: a reader can drop duplicates.
                "occurrence_id": context.occurrence_id,
                "reminder_id": context.reminder_id,
                "scheduled_for": context.scheduled_for.isoformat(),
                "attempt": context.attempt,
                "label": params.get("label", ""),
                "message": message,
            }
        )
        try:
            with self._lock, open(self.path, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            # A full disk or a busy network share may recover; a bad path will not.
            if exc.errno in (errno.ENOSPC, errno.EAGAIN, errno.EIO, errno.EDQUOT):
                raise RetryableError(f"cannot write JSONL_PATH ({errno.errorcode.get(exc.errno, exc.errno)})") from None
            raise PermanentError(f"cannot write JSONL_PATH ({type(exc).__name__})") from None
        return f"appended to {os.path.basename(self.path)}"
