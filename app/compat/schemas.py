"""TiffTock 1 request and response shapes."""
from marshmallow import Schema, fields, validate

from app.reminders.schemas import RequestSchema, within_message_limit


class RemindV1Schema(RequestSchema):
    """Body of TiffTock 1's POST /remind."""

    when = fields.String(required=True)
    message = fields.String(required=True, validate=[validate.Length(min=1), within_message_limit])
    method = fields.String(load_default=None)
    params = fields.Dict(keys=fields.String())
    timezone = fields.String()


class CreatedV1Schema(Schema):
    """TiffTock 1's answer to a create."""

    id = fields.Integer()
