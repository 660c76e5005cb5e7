"""Keyset paging: opaque cursors and RFC 8288 Link headers."""
import base64

from flask import request

from app.errors import ValidationFailed
from app.extensions import db

# Ids are INTEGER columns: 32-bit on PostgreSQL. A larger id cannot exist, and binding one errors.
MAX_ID = 2**31 - 1


def encode_cursor(last_id: int) -> str:
    """An opaque cursor meaning "rows with an id below last_id"."""
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor stands for; 422 for a cursor this API did not make."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id" or not value.isdigit() or int(value) > MAX_ID + 1:
            raise ValueError(text)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed({"cursor": ["Not a cursor from a Link header of this API."]}) from None


def page(query, id_column, limit, cursor, max_page_size):
    """Rows of the select `query` newest first, at most `limit`, after `cursor`; returns (rows, next_cursor)."""
    limit = min(limit, max_page_size)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(id_column < after)
    rows = list(db.session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def link_header(next_cursor):
    """`Link: <…>; rel="next"` for the same query with the next cursor, or {} at the end."""
    if not next_cursor:
        return {}
    args = request.args.to_dict()
    args["cursor"] = next_cursor
    query = "&".join(f"{key}={_quote(value)}" for key, value in args.items())
    return {"Link": f'<{request.base_url}?{query}>; rel="next"'}


def _quote(value):
    from urllib.parse import quote

    return quote(str(value), safe="")
