"""Marshmallow schemas of delivery attempts."""
from marshmallow import Schema, fields, validate

from app.paging import MAX_ID

DELIVERY_STATUS_VALUES = ["pending", "running", "succeeded", "failed", "retrying", "skipped", "missed"]


class DeliverySchema(Schema):
    """One attempt to deliver one occurrence."""

    id = fields.Integer()
    reminder_id = fields.Integer()
    scheduled_for = fields.String(metadata={"description": "the occurrence (UTC)"})
    attempt = fields.Integer()
    status = fields.String(metadata={"enum": DELIVERY_STATUS_VALUES})
    manual = fields.Boolean()
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)


class DeliveryListQuerySchema(Schema):
    """Query of GET /deliveries."""

    status = fields.String(validate=validate.OneOf(DELIVERY_STATUS_VALUES))
    reminder_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    since = fields.String(metadata={"description": "ISO 8601 instant: attempts created at or after it"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1))
    cursor = fields.String(validate=validate.Length(max=64))
