"""Routes of the deliveries resource: every attempt the caller may see."""
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.deliveries.schemas import DeliveryListQuerySchema, DeliverySchema
from app.deliveries.views import delivery_dict
from app.errors import ValidationFailed
from app.extensions import db
from app.models import Delivery
from app.paging import link_header, page
from app.schedule import to_instant
from app.timeutil import to_db

blp = Blueprint("deliveries", __name__, url_prefix="/deliveries", description="The attempt log")


def delivery_query(query):
    """A select of the caller's deliveries with the status / reminder_id / since filters."""
    select = db.select(Delivery)
    if not g.is_admin:
        select = select.where(Delivery.owner == g.owner)
    if query.get("status"):
        select = select.where(Delivery.status == query["status"])
    if query.get("reminder_id"):
        select = select.where(Delivery.reminder_id == query["reminder_id"])
    if query.get("since"):
        try:
            since = to_instant(query["since"], "UTC")
        except ValueError:
            raise ValidationFailed({"since": ["Not an ISO 8601 date-time."]}) from None
        select = select.where(Delivery.created_at >= to_db(since))
    return select


@blp.route("")
class DeliveryCollection(MethodView):
    """All attempts."""

    @blp.arguments(DeliveryListQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    def get(self, query):
        """List delivery attempts, newest first (filters: status, reminder_id, since)."""
        rows, next_cursor = page(
            delivery_query(query), Delivery.id, query["limit"], query.get("cursor"), current_app.config["MAX_PAGE_SIZE"]
        )
        return [delivery_dict(row) for row in rows], link_header(next_cursor)
