"""Schemas of the health and process routes."""
from marshmallow import Schema, fields


class HealthSchema(Schema):
    """GET /healthz."""

    status = fields.String(metadata={"example": "ok"})
    database = fields.String(metadata={"example": "ok"})
    scheduler = fields.String(metadata={"description": "ok | stale | none"})
    scheduler_heartbeat_age_seconds = fields.Float(allow_none=True)
    schedulers = fields.Integer(metadata={"description": "schedulers seen in the last minute"})


class ProcessSchema(Schema):
    """A registered remind process."""

    name = fields.String()
    description = fields.String()
    aliases = fields.List(fields.String())
    secret_params = fields.List(fields.String())
    params_schema = fields.Dict(metadata={"description": "JSON schema of the process's params"})
