"""GET /healthz and GET /processes."""
from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from app.errors import error_response
from app.extensions import db
from app.meta.schemas import HealthSchema, ProcessSchema
from app.models import SchedulerHeartbeat
from app.security.openapi import ErrorSchema
from app.timeutil import from_db, to_db, utcnow

blp = Blueprint("meta", __name__, description="Health and remind processes")

# A scheduler that has not beaten for this long is reported stale.
STALE_AFTER = timedelta(seconds=60)


@blp.route("/healthz")
class Health(MethodView):
    """Liveness of the API, the database and the schedulers."""

    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=ErrorSchema, description="The database does not answer")
    def get(self):
        """Report health: 200 when the database answers, with the newest scheduler heartbeat's age."""
        now = utcnow()
        try:
            newest = db.session.scalar(db.select(db.func.max(SchedulerHeartbeat.seen_at)))
            recent = db.session.scalar(
                db.select(db.func.count()).where(SchedulerHeartbeat.seen_at >= to_db(now - STALE_AFTER))
            )
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            return error_response(503, "Database unavailable")
        age = (now - from_db(newest)).total_seconds() if newest else None
        scheduler = "none" if age is None else ("ok" if age <= STALE_AFTER.total_seconds() else "stale")
        return {
            "status": "ok",
            "database": "ok",
            "scheduler": scheduler,
            "scheduler_heartbeat_age_seconds": round(age, 3) if age is not None else None,
            "schedulers": recent,
        }


@blp.route("/processes")
class Processes(MethodView):
    """Remind processes."""

    @blp.response(200, ProcessSchema(many=True))
    def get(self):
        """List the registered remind processes with the JSON schema of each one's params."""
        return current_app.extensions["tifftock_processes"].describe()
