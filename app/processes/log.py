"""The `log` process: writes a line to the scheduler's log. Needs no credentials."""
from marshmallow import Schema, fields, validate

from app.processes.base import RemindProcess


class LogParams(Schema):
    """Parameters of the log process."""

    level = fields.String(load_default="info", validate=validate.OneOf(["debug", "info", "warning"]))


class LogProcess(RemindProcess):
    """Logs the occurrence (ids only, never the message text) — the default for a first try."""

    name = "log"
    description = "Write the reminder to the scheduler's log (ids and length only)."
    Params = LogParams

    def remind(self, message, params, context):
        level = {"debug": 10, "info": 20, "warning": 30}[params.get("level", "info")]
        context.logger.log(
            level,
            "reminder due: reminder_id=%s occurrence=%s attempt=%s length=%d",
            context.reminder_id,
            context.occurrence_id,
            context.attempt,
            len(message),
        )
        return f"logged {len(message)} chars"
