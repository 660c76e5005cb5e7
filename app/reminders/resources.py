"""Routes of the reminders resource."""
from flask import current_app, g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.deliveries.schemas import DeliveryListQuerySchema, DeliverySchema
from app.deliveries.views import delivery_dict
from app.errors import ApiError, ValidationFailed, require_json_body
from app.extensions import db
from app.models import Delivery, Reminder
from app.paging import link_header, page
from app.planning import plan_first, spec_for
from app.reminders.schemas import (
    BatchSchema,
    PreviewQuerySchema,
    PreviewSchema,
    ReminderCreateSchema,
    ReminderListQuerySchema,
    ReminderPatchSchema,
    ReminderSchema,
    has_nul,
)
from app.reminders.service import apply_fields, new_reminder, registry, scoped_reminder, when_gap_shifted
from app.reminders.views import occurrence_dict, reminder_dict
from app.schedule import occurrences
from app.timeutil import to_db, utcnow

blp = Blueprint("reminders", __name__, url_prefix="/reminders", description="Create and manage reminders")
blp.before_request(require_json_body)


def config():
    """The settings object of the running app."""
    return current_app.config["TIFFTOCK"]


def view(reminder):
    """The API dict of a reminder."""
    return reminder_dict(reminder, registry())


def location(reminder):
    """The Location header of a reminder."""
    return {"Location": url_for("reminders.ReminderItem", reminder_id=reminder.id, _external=True)}


def find_by_idempotency_key(key):
    """The caller's reminder created with this idempotency key, if any."""
    if not key:
        return None
    return db.session.scalars(
        db.select(Reminder).where(Reminder.owner == g.owner, Reminder.idempotency_key == key)
    ).one_or_none()


def idempotency_key(data):
    """The key of a create: the body's field, else the Idempotency-Key header (422 when it cannot be stored)."""
    key = data.get("idempotency_key") or request.headers.get("Idempotency-Key")
    if key and (len(key) > 255 or has_nul(key)):
        raise ValidationFailed({"Idempotency-Key": ["Must be 1 to 255 characters without NUL."]})
    return key


def check_quota(adding):
    """403 when the caller would own more live reminders than MAX_REMINDERS_PER_KEY."""
    limit = config().MAX_REMINDERS_PER_KEY
    live = db.session.scalar(
        db.select(db.func.count(Reminder.id)).where(
            Reminder.owner == g.owner, Reminder.deleted_at.is_(None), Reminder.status.in_(["scheduled", "paused"])
        )
    )
    if live + adding > limit:
        raise ApiError(403, f"Reminder quota reached: at most {limit} scheduled or paused reminders per key")


def canonical_method(name):
    """The stored name of a method filter ("api" lists webhook reminders); unknown names match nothing."""
    try:
        return registry().resolve_name(name)
    except LookupError:
        return name


@blp.route("")
class ReminderCollection(MethodView):
    """The caller's reminders."""

    @blp.arguments(ReminderListQuerySchema, location="query")
    @blp.response(200, ReminderSchema(many=True))
    def get(self, query):
        """List reminders, newest first (filters: status, method, tag; paged with Link headers)."""
        select = db.select(Reminder).where(Reminder.deleted_at.is_(None)).options(selectinload(Reminder.last_delivery))
        if not g.is_admin:
            select = select.where(Reminder.owner == g.owner)
        if query.get("status"):
            select = select.where(Reminder.status == query["status"])
        if query.get("method"):
            select = select.where(Reminder.method == canonical_method(query["method"]))
        if query.get("tag"):
            select = select.where(Reminder.tags_text.contains("," + query["tag"] + ",", autoescape=True))
        rows, next_cursor = page(select, Reminder.id, query["limit"], query.get("cursor"), config().MAX_PAGE_SIZE)
        return [view(row) for row in rows], link_header(next_cursor)

    @blp.arguments(ReminderCreateSchema)
    @blp.response(201, ReminderSchema, headers={"Location": {"description": "URL of the reminder", "schema": {"type": "string"}}})
    @blp.alt_response(200, schema=ReminderSchema, description="Replay of an earlier create with the same idempotency key")
    def post(self, data):
        """Create a reminder (an Idempotency-Key header or field makes a retry safe)."""
        key = idempotency_key(data)
        if key:
            data["idempotency_key"] = key
            existing = find_by_idempotency_key(data["idempotency_key"])
            if existing is not None:
                return view(existing), 200, {**location(existing), "Idempotent-Replayed": "true"}
        check_quota(1)
        reminder = new_reminder(data, g.owner, config(), utcnow())
        db.session.add(reminder)
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent create with the same key won the race: answer with its reminder.
            db.session.rollback()
            existing = find_by_idempotency_key(data.get("idempotency_key"))
            if existing is None:
                raise
            return view(existing), 200, {**location(existing), "Idempotent-Replayed": "true"}
        return view(reminder), 201, location(reminder)


@blp.route("/batch")
class ReminderBatch(MethodView):
    """Many reminders at once."""

    @blp.arguments(BatchSchema)
    @blp.response(201, ReminderSchema(many=True))
    def post(self, data):
        """Create up to 1,000 reminders in one transaction: all or nothing."""
        now = utcnow()
        errors, created, results = {}, [], []
        by_key = {}  # idempotency_key -> reminder made earlier in this batch
        for index, item in enumerate(data["reminders"]):
            key = item.get("idempotency_key")
            existing = by_key.get(key) or find_by_idempotency_key(key)
            if existing is not None:
                results.append(existing)
                continue
            try:
                reminder = new_reminder(item, g.owner, config(), now)
            except ValidationFailed as exc:
                errors[str(index)] = exc.fields
                continue
            if key:
                by_key[key] = reminder
            created.append(reminder)
            results.append(reminder)
        if errors:
            raise ValidationFailed({"reminders": errors})
        check_quota(len(created))
        db.session.add_all(created)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise ApiError(409, "Two reminders in the batch (or a concurrent request) share an idempotency_key") from None
        return [view(reminder) for reminder in results]


@blp.route("/preview")
class ReminderPreviewUnsaved(MethodView):
    """Occurrences of a reminder body that is not saved."""

    @blp.arguments(ReminderCreateSchema)
    @blp.arguments(PreviewQuerySchema, location="query")
    @blp.response(200, PreviewSchema)
    def post(self, data, query):
        """Preview the next n occurrences of an unsaved reminder body."""
        now = utcnow()
        reminder = new_reminder(data, g.owner, config(), now)
        result = preview(reminder, now, query["n"])
        if when_gap_shifted(data, reminder):
            for occurrence in result["occurrences"]:
                occurrence["dst_shifted"] = True
        return result


@blp.route("/<int:reminder_id>")
class ReminderItem(MethodView):
    """One reminder."""

    @blp.response(200, ReminderSchema)
    def get(self, reminder_id):
        """Get a reminder."""
        return view(scoped_reminder(reminder_id))

    @blp.arguments(ReminderPatchSchema)
    @blp.response(200, ReminderSchema)
    def patch(self, data, reminder_id):
        """Change a reminder; its next run is recomputed."""
        reminder = scoped_reminder(reminder_id)
        if reminder.status == "cancelled":
            raise ApiError(409, "A cancelled reminder cannot change")
        apply_fields(reminder, data, config(), utcnow(), creating=False)
        db.session.commit()
        return view(reminder)

    @blp.response(204)
    def delete(self, reminder_id):
        """Delete a reminder: its future occurrences never fire."""
        reminder = scoped_reminder(reminder_id)
        cancel(reminder)
        db.session.commit()


def cancel(reminder):
    """Cancel and hide a reminder; an in-flight attempt loses its lease."""
    now = to_db(utcnow())
    reminder.status = "cancelled"
    reminder.deleted_at = now
    reminder.next_run_at = None
    reminder.lease_token = None
    reminder.lease_expires_at = None
    # A trigger not yet claimed is a future delivery too: it must not fire after the delete.
    db.session.execute(
        db.update(Delivery)
        .where(Delivery.reminder_id == reminder.id, Delivery.manual.is_(True), Delivery.status == "pending")
        .values(status="skipped", finished_at=now, error="reminder deleted")
    )


@blp.route("/<int:reminder_id>/pause")
class ReminderPause(MethodView):
    """Pausing."""

    @blp.response(200, ReminderSchema)
    def post(self, reminder_id):
        """Pause a reminder: it does not fire until resumed."""
        reminder = scoped_reminder(reminder_id)
        if reminder.status in ("scheduled", "paused"):
            reminder.status = "paused"
            reminder.lease_token = None
            reminder.lease_expires_at = None
            db.session.commit()
        else:
            raise ApiError(409, f"Only a scheduled reminder can be paused; this one is {reminder.status}")
        return view(reminder)


@blp.route("/<int:reminder_id>/resume")
class ReminderResume(MethodView):
    """Resuming."""

    @blp.response(200, ReminderSchema)
    def post(self, reminder_id):
        """Resume a paused reminder; its next run is recomputed from now."""
        reminder = scoped_reminder(reminder_id)
        if reminder.status == "paused":
            plan_first(reminder, utcnow())
            db.session.commit()
        elif reminder.status != "scheduled":
            raise ApiError(409, f"Only a paused reminder can be resumed; this one is {reminder.status}")
        return view(reminder)


@blp.route("/<int:reminder_id>/trigger")
class ReminderTrigger(MethodView):
    """Manual delivery."""

    @blp.response(202, DeliverySchema)
    def post(self, reminder_id):
        """Deliver once now, outside the schedule (one attempt, picked up by the scheduler)."""
        reminder = scoped_reminder(reminder_id)
        now = to_db(utcnow())
        delivery = Delivery(
            reminder_id=reminder.id,
            owner=reminder.owner,
            scheduled_for=now,
            attempt=1,
            status="pending",
            manual=True,
            created_at=now,
        )
        db.session.add(delivery)
        db.session.commit()
        return delivery_dict(delivery)


@blp.route("/<int:reminder_id>/deliveries")
class ReminderDeliveries(MethodView):
    """A reminder's attempt log."""

    @blp.arguments(DeliveryListQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    def get(self, query, reminder_id):
        """List a reminder's delivery attempts, newest first."""
        from app.deliveries.resources import delivery_query

        reminder = scoped_reminder(reminder_id)
        select = delivery_query(query).where(Delivery.reminder_id == reminder.id)
        rows, next_cursor = page(select, Delivery.id, query["limit"], query.get("cursor"), config().MAX_PAGE_SIZE)
        return [delivery_dict(row) for row in rows], link_header(next_cursor)


@blp.route("/<int:reminder_id>/preview")
class ReminderPreview(MethodView):
    """Upcoming occurrences."""

    @blp.arguments(PreviewQuerySchema, location="query")
    @blp.response(200, PreviewSchema)
    def get(self, query, reminder_id):
        """Preview a reminder's next n occurrences, marked where a window or DST moved them."""
        reminder = scoped_reminder(reminder_id)
        return preview(reminder, utcnow(), query["n"])


def preview(reminder, now, n):
    """The next n occurrences of a reminder from `now`."""
    if reminder.status in ("completed", "failed", "cancelled"):
        found = []
    else:
        found = occurrences(spec_for(reminder), now, n, reminder.runs or 0)
    return {"timezone": reminder.timezone, "occurrences": [occurrence_dict(o, reminder.timezone) for o in found]}
