"""Marshmallow schemas of reminders: what a client sends and what it gets back."""
from collections.abc import Mapping

from flask import current_app
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates

from app.deliveries.schemas import DeliverySchema
from app.paging import MAX_ID

DURATION_EXAMPLE = "ISO 8601 duration, e.g. PT15M"


def has_nul(value):
    """Does a JSON value hold a NUL character in any string (key or value)?"""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def within_message_limit(value):
    """A message validator: at most MAX_MESSAGE_LENGTH characters (read per request: tests change it)."""
    limit = current_app.config["MAX_MESSAGE_LENGTH"]
    if len(value) > limit:
        raise ValidationError(f"Longer than the limit of {limit} characters.")


class RequestSchema(Schema):
    """A request body or query: strings with NUL are refused (PostgreSQL cannot store them)."""

    @pre_load
    def _refuse_nul(self, data, **_kwargs):
        if isinstance(data, Mapping):  # a JSON object, or webargs' proxy of the query string
            bad = sorted(str(key) for key, value in data.items() if has_nul(key) or has_nul(value))
            if bad:
                raise ValidationError({name: ["Must not contain a NUL character."] for name in bad})
        return data


class WindowSchema(Schema):
    """Quiet-hours window: deliver only between start and end (local time; may wrap midnight)."""

    start = fields.String(required=True, metadata={"example": "08:00", "description": "HH:MM, local"})
    end = fields.String(required=True, metadata={"example": "21:00", "description": "HH:MM, local"})
    outside = fields.String(load_default="defer", validate=validate.OneOf(["defer", "skip"]))


class RetrySchema(Schema):
    """Retry policy for a failed attempt."""

    max_attempts = fields.Integer(validate=validate.Range(min=1, max=100))
    backoff = fields.String(metadata={"description": DURATION_EXAMPLE, "example": "PT30S"})
    max_age = fields.String(metadata={"description": DURATION_EXAMPLE, "example": "PT1H"})


class ReminderFieldsSchema(RequestSchema):
    """Fields a client may set; shared by create, patch and preview."""

    message = fields.String(validate=[validate.Length(min=1), within_message_limit])
    method = fields.String(validate=validate.Length(min=1, max=64))
    params = fields.Dict(keys=fields.String())
    when = fields.String(allow_none=True, metadata={"description": "ISO 8601; without offset: wall clock in timezone"})
    every = fields.String(allow_none=True, metadata={"description": DURATION_EXAMPLE})
    cron = fields.String(allow_none=True, validate=validate.Length(max=255), metadata={"example": "0 8 * * mon-fri"})
    rrule = fields.String(allow_none=True, validate=validate.Length(max=2000), metadata={"example": "FREQ=WEEKLY;BYDAY=TU"})
    until = fields.String(allow_none=True)
    max_runs = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_ID))
    timezone = fields.String(validate=validate.Length(min=1, max=64))
    window = fields.Nested(WindowSchema, allow_none=True)
    retry = fields.Nested(RetrySchema, allow_none=True)
    misfire_grace = fields.String(allow_none=True, metadata={"description": DURATION_EXAMPLE})
    # Stored comma-joined for the tag filter, so a comma inside a tag would split it.
    tags = fields.List(
        fields.String(validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[^,]*$", error="A tag may not contain a comma.")]),
        validate=validate.Length(max=20),
    )


class ReminderCreateSchema(ReminderFieldsSchema):
    """Body of POST /reminders."""

    message = fields.String(required=True, validate=[validate.Length(min=1), within_message_limit])
    idempotency_key = fields.String(validate=validate.Length(min=1, max=255))


class ReminderPatchSchema(ReminderFieldsSchema):
    """Body of PATCH /reminders/<id>: any subset of the settable fields."""


class BatchSchema(Schema):
    """Body of POST /reminders/batch."""

    reminders = fields.List(fields.Nested(ReminderCreateSchema), required=True)

    @validates("reminders")
    def _batch_size(self, value, **_kwargs):
        limit = current_app.config["MAX_BATCH"]
        if not value:
            raise ValidationError("Give at least one reminder.")
        if len(value) > limit:
            raise ValidationError(f"At most {limit} reminders per batch.")


class ReminderSchema(Schema):
    """A stored reminder as the API returns it."""

    id = fields.Integer()
    message = fields.String()
    method = fields.String()
    params = fields.Dict()
    when = fields.String(allow_none=True)
    every = fields.String(allow_none=True)
    cron = fields.String(allow_none=True)
    rrule = fields.String(allow_none=True)
    until = fields.String(allow_none=True)
    max_runs = fields.Integer(allow_none=True)
    timezone = fields.String()
    window = fields.Nested(WindowSchema, allow_none=True)
    retry = fields.Nested(RetrySchema, allow_none=True)
    misfire_grace = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    idempotency_key = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["scheduled", "paused", "completed", "failed", "cancelled"]})
    next_run_at = fields.String(allow_none=True)
    runs = fields.Integer()
    last_delivery = fields.Nested(DeliverySchema, allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class ReminderListQuerySchema(RequestSchema):
    """Query of GET /reminders."""

    status = fields.String(validate=validate.OneOf(["scheduled", "paused", "completed", "failed", "cancelled"]))
    method = fields.String(validate=validate.Length(max=64))
    tag = fields.String(validate=validate.Length(max=64))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1))
    cursor = fields.String(validate=validate.Length(max=64))


class PreviewQuerySchema(Schema):
    """Query of the preview routes."""

    n = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class OccurrenceSchema(Schema):
    """One upcoming occurrence."""

    at = fields.String(metadata={"description": "UTC instant it fires"})
    nominal = fields.String(metadata={"description": "UTC instant before a window moved it"})
    local = fields.String(metadata={"description": "wall-clock time in the reminder's timezone"})
    deferred = fields.Boolean(metadata={"description": "a window moved it to its next opening"})
    dst_shifted = fields.Boolean(metadata={"description": "its local time fell in a DST gap and moved"})


class PreviewSchema(Schema):
    """Response of the preview routes."""

    timezone = fields.String()
    occurrences = fields.List(fields.Nested(OccurrenceSchema))


class TriggerResponseSchema(Schema):
    """Response of POST /reminders/<id>/trigger."""

    delivery = fields.Nested(DeliverySchema)
