"""TiffTock 1 routes: POST /remind, GET and DELETE /reminder/<id>."""
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.errors import require_json_body
from app.extensions import db
from app.reminders.resources import cancel, check_quota, location
from app.reminders.schemas import ReminderSchema
from app.reminders.service import new_reminder, registry, scoped_reminder
from app.reminders.views import reminder_dict
from app.compat.schemas import CreatedV1Schema, RemindV1Schema
from app.timeutil import utcnow

blp = Blueprint("compat", __name__, description="TiffTock 1 compatibility")
blp.before_request(require_json_body)


@blp.route("/remind")
class RemindV1(MethodView):
    """TiffTock 1 create."""

    @blp.arguments(RemindV1Schema)
    @blp.response(201, CreatedV1Schema)
    def post(self, data):
        """Create a one-off reminder (TiffTock 1: {when, message, method})."""
        if not data.get("method"):
            data.pop("method")
        check_quota(1)
        reminder = new_reminder(data, g.owner, current_app.config["TIFFTOCK"], utcnow())
        db.session.add(reminder)
        db.session.commit()
        return {"id": reminder.id}, 201, location(reminder)


@blp.route("/reminder/<int:reminder_id>")
class ReminderV1(MethodView):
    """TiffTock 1 read and delete."""

    @blp.response(200, ReminderSchema)
    def get(self, reminder_id):
        """Get a reminder (TiffTock 1 path)."""
        return reminder_dict(scoped_reminder(reminder_id), registry())

    @blp.response(204)
    def delete(self, reminder_id):
        """Delete a reminder (TiffTock 1 path)."""
        cancel(scoped_reminder(reminder_id))
        db.session.commit()
