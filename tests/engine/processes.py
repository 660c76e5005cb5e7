"""Test-only remind processes (plugins loaded through PROCESS_MODULES), scripted by their params."""
from marshmallow import Schema, fields

from app.processes import PermanentError, RemindProcess, RetryableError


class ScriptParams(Schema):
    """`outcomes[attempt - 1]` (the last one repeats): ok | retry | retry_after:<s> | permanent | crash."""

    outcomes = fields.List(fields.String(), load_default=lambda: ["ok"])


class ScriptProcess(RemindProcess):
    """Does what its params say for each attempt number; stateless, so thread-safe."""

    name = "script"
    Params = ScriptParams

    def remind(self, message, params, context):
        outcomes = params["outcomes"]
        step = outcomes[min(context.attempt, len(outcomes)) - 1]
        if step == "ok":
            return f"ok attempt {context.attempt}"
        if step == "retry":
            raise RetryableError("HTTP 503")
        if step.startswith("retry_after:"):
            raise RetryableError("HTTP 429", retry_after=float(step.split(":", 1)[1]))
        if step == "permanent":
            raise PermanentError("HTTP 404")
        if step == "crash":
            raise ValueError("token=hunter2 leaked in an exception message")
        raise AssertionError(f"unknown step {step!r}")
